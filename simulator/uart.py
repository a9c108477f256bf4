"""What a UART makes of bytes sent in another serial format than its own.

Theory of operation. The sender drives the line one bit per 1/baud
seconds: for each byte a start bit (0), the data bits (LSB first), the
parity bit if any, then its stop bits (1); between characters the line
idles at 1. The receiver knows only its own format. As a PL011 (the
RP2040's UART), a 16550 or an FTDI chip does, it waits for the line to
read 0, takes that as a start bit, checks it again half a bit later (a
glitch is not a start), samples each following bit in its middle at its
own baud, and checks the parity bit and the first stop bit: a stop bit
read as 0 is a framing error (all zero with a framing error is a break),
a parity bit that does not match is a parity error. Either way the byte
is handed up with its error; a Modbus receiver discards the frame (Modbus
over Serial Line V1.02, 2.5.1). Then it hunts for the next start bit from
the middle of that stop bit.

So a master at the wrong rate is heard as garbage: a faster one packs
several of its bits into one of the receiver's, and its 8 bytes become one
or two wrong bytes, mostly with framing errors; a slower one is read a
fraction of each bit at a time, and each byte splits into several wrong
ones. Data bits of the same rate in another frame (8N1 against 8E1) are
right until the parity or stop bit lands where the receiver expects the
other one. 2 stop bits sent to a receiver of 1 are idle time to it.

`receive` is pure: bytes in, bytes and error counts out, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.timing import SerialFormat


@dataclass(frozen=True, slots=True)
class Received:
    data: bytes
    framing_errors: int = 0
    parity_errors: int = 0

    @property
    def errors(self) -> int:
        return self.framing_errors + self.parity_errors


def same_line(a: SerialFormat, b: SerialFormat) -> bool:
    """Whether a receiver in format `b` reads what a sender in `a` sends as sent."""
    return (a.baud, a.bytesize, a.parity) == (b.baud, b.bytesize, b.parity) and (
        a.stopbits >= b.stopbits  # extra stop bits are idle line to the receiver
    )


def _bits(data: bytes, fmt: SerialFormat) -> list[int]:
    bits: list[int] = []
    for byte in data:
        word = [(byte >> i) & 1 for i in range(fmt.bytesize)]
        bits.append(0)
        bits += word
        if fmt.parity != "N":
            ones = sum(word)
            bits.append(ones & 1 if fmt.parity == "E" else (ones + 1) & 1)
        bits += [1] * fmt.stopbits
    return bits


def receive(data: bytes, sender: SerialFormat, receiver: SerialFormat) -> Received:
    """What `receiver` reads of `data` sent back to back in `sender`'s format,
    the line idle before and after."""
    if same_line(sender, receiver):
        return Received(bytes(data))
    bits = _bits(data, sender)
    t_send = 1.0 / sender.baud
    t_recv = 1.0 / receiver.baud
    end = len(bits) * t_send

    def level(t: float) -> int:
        i = int(t / t_send)
        return bits[i] if 0 <= i < len(bits) else 1

    out = bytearray()
    framing = parity = 0
    t = 0.0
    while t < end:
        i = int(t / t_send)
        while i < len(bits) and bits[i] == 1:
            i += 1
        if i >= len(bits):
            break
        start = max(t, i * t_send)
        if level(start + t_recv / 2) != 0:  # a glitch, not a start bit
            t = start + t_recv / 2
            continue
        sample = start + 1.5 * t_recv
        value = ones = 0
        for k in range(receiver.bytesize):
            bit = level(sample)
            value |= bit << k
            ones += bit
            sample += t_recv
        if receiver.parity != "N":
            expected = ones & 1 if receiver.parity == "E" else (ones + 1) & 1
            parity += level(sample) != expected
            sample += t_recv
        framing += level(sample) != 1  # the first stop bit only, as UARTs check
        out.append(value)
        t = sample  # hunt for the next start from the middle of the stop bit
    return Received(bytes(out), framing, parity)
