"""The SAM_V reader in USB mode: the same cycle over the four bulk pipes.

No USB device can be emulated on this kernel (see usb_reader.py), so the
device is a pyusb backend whose pipes lead to the simulator's reader model;
pyusb, the transport and the SAM cycle above it are the real code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from locker_host.domain import Assurance, owner_key, validate_id_number
from locker_host.readers import (
    Backoff,
    CardPresented,
    FaultCode,
    ReaderFault,
    ReaderKeys,
    ReaderReady,
    Reading,
    SamConfig,
    SamTiming,
    ThreadedReader,
    UsbSettings,
    sam_reader,
)
from locker_host.readers.usb_port import UsbSamDevice
from protocol import idcard
from protocol.idcard import usb as pipes

from . import numbers as n
from .conftest import OWNER_SECRET
from .numbers import assert_clean
from .usb_reader import SimulatedUsb, UsbReader
from .waiting import next_reading, readings_until, wait_until

TIMING = SamTiming(
    poll_interval=0.03,
    check_timeout=0.3,
    find_timeout=0.3,
    select_timeout=0.3,
    read_timeout=0.6,
    sam_retry=0.1,
)


@dataclass
class Running:
    reader: ThreadedReader
    readings: AsyncIterator[Reading]


async def start(
    backend: SimulatedUsb, keys: ReaderKeys, settings: UsbSettings | None = None
) -> Running:
    config = SamConfig(settings or UsbSettings(), TIMING)
    reader = sam_reader(config, keys.owner, backoff=Backoff(0.02, 0.1), usb_backend=backend)
    await reader.start()
    return Running(reader, reader.readings())


def finds(device: UsbReader) -> int:
    return device.model.counters["finds"]


def test_a_frame_is_split_at_its_header() -> None:
    frame = idcard.encode_command(idcard.ReadCard())
    assert pipes.split_frame(frame) == (bytes.fromhex("AAAAAA966900 03"), bytes.fromhex("300132"))
    header, body = pipes.split_frame(idcard.encode_reply(idcard.StatusCode.NO_CARD))
    assert pipes.body_length(header) == len(body) == 4
    assert pipes.body_length(b"\xaa\xaa\xaa\x96") is None  # not a whole header
    assert pipes.body_length(b"\x00" * 7) is None  # no preamble


async def test_a_card_on_a_usb_reader_is_one_strong_reading(keys: ReaderKeys) -> None:
    device = UsbReader()
    r = await start(SimulatedUsb(device), keys)
    try:
        assert await next_reading(r.readings) == ReaderReady("idcard")
        device.place(n.RESIDENT)
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented)
        expected = owner_key(OWNER_SECRET, validate_id_number(n.RESIDENT))
        assert card.credential.primary.key == expected
        assert card.credential.assurance is Assurance.STRONG
        assert card.masked == "110105********002X" and card.source == "idcard"
        assert_clean(card)
        # The card stays: found again and again, read once.
        seen = finds(device)
        await wait_until(lambda: finds(device) >= seen + 3)
        assert device.model.counters["reads"] == 1
    finally:
        await r.reader.stop()
    # Byte for byte: each command's 7 header bytes on 02 and the rest on 06, in
    # order; each reply's header from 81 and its body from 85.
    # (the SAM id is read once, after the first good check: shown in health)
    commands = [
        idcard.CheckSam(),
        idcard.ReadSamId(),
        idcard.FindCard(),
        idcard.SelectCard(),
        idcard.ReadCard(),
    ]
    frames = {idcard.encode_command(c) for c in commands}
    out = list(zip(device.sent(pipes.HEADER_OUT), device.sent(pipes.BODY_OUT), strict=True))
    assert {h + b for h, b in out} == frames
    assert out[0] == pipes.split_frame(idcard.encode_command(idcard.CheckSam()))
    headers, bodies = device.sent(pipes.HEADER_IN), device.sent(pipes.BODY_IN)
    pairs = list(zip(headers, bodies, strict=False))  # the last may have been cut by stop()
    assert all(len(h) == 7 and pipes.body_length(h) == len(b) for h, b in pairs)
    read = [h + b for h, b in pairs if len(b) > 1000]
    assert len(read) == 1 and len(read[0]) == 1295  # 30 01: text and photo


async def test_no_reader_plugged_in_then_one_is(keys: ReaderKeys) -> None:
    device = UsbReader(plugged=False)
    r = await start(SimulatedUsb(device), keys)
    try:
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
        assert "usb:0400:c35a" in fault.message and "no such USB device" in fault.message
        device.replug()
        assert await readings_until(r.readings, lambda x: True) == [ReaderReady("idcard")]
    finally:
        await r.reader.stop()


async def test_an_unplugged_usb_reader_is_lost_then_recovers(keys: ReaderKeys) -> None:
    device = UsbReader()
    r = await start(SimulatedUsb(device), keys)
    try:
        assert await next_reading(r.readings) == ReaderReady("idcard")
        device.unplug()
        lost = await next_reading(r.readings)
        assert isinstance(lost, ReaderFault) and lost.code is FaultCode.DEVICE_LOST
        assert "No such device" in lost.message
        await wait_until(lambda: r.reader.statistics().open_failures >= 2)
        assert r.reader.statistics().available is False
        device.replug()
        assert await next_reading(r.readings) == ReaderReady("idcard")
        device.place(n.PERMIT_HK)
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented) and card.masked == "810000********1230"
    finally:
        await r.reader.stop()


async def test_a_reader_another_program_holds_is_unavailable(keys: ReaderKeys) -> None:
    device = UsbReader(busy=True)
    r = await start(SimulatedUsb(device), keys)
    try:
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
        assert "Resource busy" in fault.message
        assert device.sent(pipes.HEADER_OUT) == []  # nothing was sent to it
    finally:
        await r.reader.stop()


async def test_a_device_without_the_four_pipes_is_refused(keys: ReaderKeys) -> None:
    device = UsbReader(endpoints=(0x01, 0x81))  # same ids, another kind of device
    r = await start(SimulatedUsb(device), keys)
    try:
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
        assert "02/06/81/85" in fault.message
    finally:
        await r.reader.stop()


async def test_two_readers_need_a_usb_port(keys: ReaderKeys) -> None:
    left, right = UsbReader(port_numbers=(1, 2), address=7), UsbReader(port_numbers=(1, 4))
    backend = SimulatedUsb(left, right)
    r = await start(backend, keys)
    try:
        fault = await next_reading(r.readings)
        assert isinstance(fault, ReaderFault) and fault.code is FaultCode.DEVICE_UNAVAILABLE
        assert "2 such devices (1-1.2, 1-1.4); set usb_port" in fault.message
    finally:
        await r.reader.stop()
    r = await start(backend, keys, UsbSettings(port="1-1.4"))
    try:
        assert await next_reading(r.readings) == ReaderReady("idcard")
        right.place(n.RESIDENT_2)
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented) and card.masked == "130981********1232"
        assert left.traffic == []
    finally:
        await r.reader.stop()


def exchange(link: UsbSamDevice, command: idcard.Command) -> idcard.Reply | idcard.ReaderFault:
    link.discard_input()
    link.write(idcard.encode_command(command))
    reader = idcard.ReplyReader(command)
    for _ in range(40):  # 40 read slices of 50 ms at most
        outcome = reader.feed(link.read())
        if outcome is not None:
            return outcome
    return reader.give_up()


def test_what_a_reply_left_in_the_pipes_is_not_taken_for_the_next() -> None:
    # The host gave up on the status check after its header had come: the
    # body (00 00 90 ...) still waits on pipe 85. The find that follows must
    # not take that body for its own (it would read "success" for a find).
    device = UsbReader()
    link = UsbSamDevice.open(UsbSettings(), SimulatedUsb(device))
    try:
        link.write(idcard.encode_command(idcard.CheckSam()))
        header = b""
        while not header:
            header = link.read()
        assert pipes.body_length(header) == 4
        assert exchange(link, idcard.FindCard()) == idcard.StatusReply(idcard.StatusCode.NO_CARD)
        device.place(n.RESIDENT)
        assert isinstance(exchange(link, idcard.FindCard()), idcard.CardFound)
    finally:
        link.close()


async def test_a_body_that_comes_in_many_packets_is_read_across_slices(
    keys: ReaderKeys,
) -> None:
    # The 1288-byte body of a read is 21 packets; 4 ms apart here, they take about
    # 80 ms, longer than one 50 ms read slice: the transport must keep reading the
    # body pipe until Len bytes came, and not look for a header in between.
    device = UsbReader(packet_gap=0.004)
    r = await start(SimulatedUsb(device), keys)
    try:
        assert await next_reading(r.readings) == ReaderReady("idcard")
        device.place(n.RESIDENT)
        card = await next_reading(r.readings)
        assert isinstance(card, CardPresented), card
        assert device.model.counters["reads"] == 1
    finally:
        await r.reader.stop()
    # Each reply's body, as the reads that carried it: the read's came in several.
    bodies = [b for b in device.sent(pipes.BODY_IN) if b]
    reads_per_body = []
    for header in device.sent(pipes.HEADER_IN):
        want, got = pipes.body_length(header), 0
        assert want is not None
        pieces = 0
        while got < want and bodies:
            got += len(bodies.pop(0))
            pieces += 1
        reads_per_body.append((want, got, pieces))
    read = [(got, pieces) for want, got, pieces in reads_per_body if want == 1288]
    assert len(read) == 1 and read[0][0] == 1288 and read[0][1] > 1, reads_per_body
