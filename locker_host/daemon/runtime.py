"""The composition root: configuration -> adapters -> service (DESIGN.md section 2).

Start-up, in order, each step best effort where the hardware is concerned:

1. the secrets file, the database's single-instance lock (instance.py), then
   the service on the SQLite file: it rebuilds the
   state, reconciles it with the configured layout and feeds the domain
   `Restarted` (opens whose outcome was never recorded end `outcome_unknown`
   and are never re-executed; every reading is `unknown`, DESIGN.md 4.8);
2. the commissioning record: until it covers the configured map, citizen
   flows are refused `not_commissioned` (the kiosk's `citizen_gate`);
3. one `BusOwner` per bus. The service was opened first, so the owners'
   first snapshots reconcile the readings (a latch from before nobody saw
   raises no alarm). A board or a port that does not answer at start-up
   costs nothing: the owner retries with back-off (field lessons #3);
4. the card readers, the admin socket, the HTTP API when `[http]` is
   configured (http.py), the deadline timer and housekeeping;
5. the MQTT link to the central system when `[mqtt]` is configured
   (mqtt_link.py): woken by every commit, restarted with back-off if it fails.

While it runs, every reading of a reader goes to the app's `Presentations`
(kiosk.py), every
snapshot of a bus owner to `SnapshotTranslator` and then
`LockerService.observe`, whose effects run as tasks of the daemon's task
group (the owner's consumer must not wait for its own bus). One timer is
armed for the service's next deadline and re-armed after every commit and
every change of trust in the wall clock (`DeadlineTimer`): an idle locker
does not wake up.

SIGTERM or SIGINT set `stop`: readers stop (no new presentations), the admin
socket and the HTTP server close, the MQTT link says `offline` and
disconnects, the loops and effects are cancelled, the buses stop, and the
store is closed last. Any task that fails stops the daemon with its error
(exceptions always propagate; systemd restarts the daemon), except the MQTT
link, which is restarted in place: the locker serves the hall without its
central system.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from locker_host.app import (
    CommandApi,
    DeadlineTimer,
    Keys,
    Kiosk,
    LockerService,
    ServiceConfig,
    SystemClock,
    SystemCodeSource,
    load_keys,
    load_table,
)
from locker_host.bus import BoardSnapshot, BusOwner, Health, SnapshotConsumer
from locker_host.domain import Decision
from locker_host.printer import ReceiptPrinter
from locker_host.readers import (
    HidConfig,
    LineConfig,
    ReaderKeys,
    SamConfig,
    ThreadedReader,
    hid_reader,
    line_reader,
    sam_reader,
)
from mqtt_bridge import BridgeConfig

from .admin import AdminServer
from .admin_commands import AdminHandler
from .commission import load_record, status_of
from .config import ConfigError, DaemonConfig, wiring_hash
from .config.mqtt import bridge_config, parse_mqtt_secrets
from .config.readers import ReaderSetting
from .housekeeping import Housekeeper
from .http import api_context, start_http
from .instance import exclusive
from .kiosk import build_presentations, pump
from .mqtt_link import MqttLink, ServicePort
from .receipts import ReceiptWatcher
from .staff import StaffCards
from .translate import BusLockDriver, SnapshotTranslator

logger = logging.getLogger(__name__)


class _Tasks:
    """Background tasks in the daemon's task group, cancelled together at shutdown."""

    def __init__(self, group: asyncio.TaskGroup) -> None:
        self._group = group
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self._group.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


async def run_daemon(config: DaemonConfig, stop: asyncio.Event) -> None:
    keys = load_keys(config.paths.secrets)
    check_keys(config, keys)
    link = link_config(config)
    with exclusive(config.paths.database, "starting lockerd"):
        await _run(config, keys, link, stop)


def link_config(config: DaemonConfig) -> BridgeConfig | None:
    """The bridge's settings from `[mqtt]` and the secrets file (None: no link)."""
    if config.mqtt is None:
        return None
    secrets = parse_mqtt_secrets(load_table(config.paths.secrets, "mqtt"))
    return bridge_config(config.mqtt, secrets, site=config.locker.site, locker=config.locker.locker)


async def _run(
    config: DaemonConfig, keys: Keys, link: BridgeConfig | None, stop: asyncio.Event
) -> None:
    translator = SnapshotTranslator(config.locker.layout)
    driver = BusLockDriver(translator)
    clock = SystemClock(config.clock.synchronised_flag)
    service_config = ServiceConfig(
        config.locker,
        config.paths.database,
        keys,
        command_grace_s=config.housekeeping.command_reply_grace_s,
        wall_recheck_s=config.clock.wall_recheck_s,
    )
    service = await LockerService.open(service_config, driver=driver, clock=clock)
    logger.info(
        "service open",
        extra={
            "site": config.locker.site,
            "locker": config.locker.locker,
            "compartments": len(config.locker.layout.compartments),
            "clock_trusted": clock.wall_trusted(),
        },
    )
    try:
        await _serve(
            config,
            keys,
            service=service,
            translator=translator,
            driver=driver,
            link_config=link,
            stop=stop,
        )
    finally:
        await service.aclose()
        logger.info("store closed")


async def _serve(
    config: DaemonConfig,
    keys: Keys,
    *,
    service: LockerService,
    translator: SnapshotTranslator,
    driver: BusLockDriver,
    link_config: BridgeConfig | None,
    stop: asyncio.Event,
) -> None:
    record = await service.runner.run(load_record)
    commissioning = status_of(
        record, config.locker.layout, wiring_hash(config.locker.layout, config.buses)
    )
    logger.log(
        logging.INFO if commissioning.commissioned else logging.WARNING,
        "commissioned" if commissioning.commissioned else "not commissioned: citizen flows refused",
        extra={
            "passed": len(commissioning.passed),
            "failed": len(commissioning.failed),
            "not_walked": len(commissioning.not_walked),
        },
    )
    staff = StaffCards(keys.staff, config.staff)
    kiosk = Kiosk(service, staff, citizen_gate=commissioning.refusal)
    presentations = build_presentations(config, keys, service, kiosk, staff)
    readers = [build_reader(r, keys) for r in config.readers]
    api = CommandApi(service, SystemCodeSource())
    link = (
        None if link_config is None else MqttLink(link_config, ServicePort(api, service), service)
    )
    async with asyncio.TaskGroup() as group:
        effects, loops = _Tasks(group), _Tasks(group)
        owners = {
            bus.name: BusOwner(bus, _consumer(service, translator, effects)) for bus in config.buses
        }

        def health() -> dict[str, Any]:
            return {
                "buses": [_bus_health(owner) for owner in owners.values()],
                "readers": [_reader_health(reader) for reader in readers],
                "service": vars(service.statistics()),
                "commissioned": commissioning.commissioned,
                "mqtt": None if link is None else link.statistics(),
            }

        handler = AdminHandler(
            config,
            service,
            api=api,
            presentations=presentations,
            commissioning=commissioning,
            health=health,
        )
        admin = AdminServer(config.paths.admin_socket, handler)
        async with contextlib.AsyncExitStack() as stack:
            for owner in owners.values():
                loops.spawn(owner.run())
            await asyncio.sleep(0)  # let the owners start before anything asks them
            driver.attach(owners)
            for reader in readers:
                await reader.start()
                stack.push_async_callback(reader.stop)
                loops.spawn(pump(reader.readings(), presentations))
            await admin.start()
            stack.push_async_callback(admin.close)
            if config.http is not None:
                context = api_context(
                    config,
                    config.http,
                    service=service,
                    presentations=presentations,
                    owners=list(owners.values()),
                    readers=readers,
                    commissioned=lambda: commissioning.commissioned,
                    mqtt=None if link is None else link.statistics,
                )
                await start_http(config.http, context, stack=stack, spawn=loops.spawn)
            timer = DeadlineTimer(service, on_fired=lambda d: log_decision("timer", d))
            loops.spawn(timer.run())
            loops.spawn(Housekeeper(service, config.housekeeping).run())
            if config.kiosk.receipt_printer is not None:
                labels = {str(d.id): d.labels["zh"] for d in config.departments}
                printer = ReceiptPrinter(config.kiosk.receipt_printer)
                loops.spawn(ReceiptWatcher(service, printer, labels).run())
            link_task = None if link is None else group.create_task(link.run())
            logger.info(
                "running",
                extra={
                    "buses": len(owners),
                    "readers": len(readers),
                    "admin_socket": str(config.paths.admin_socket),
                    "mqtt": None if link is None else link.statistics()["brokers"],
                    "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
                },
            )
            await stop.wait()
            logger.info("stopping")
            # No new presentations or commands first (the admin socket, the readers),
            # then what is in flight, then the loops and the buses.
            await stack.aclose()
            if link is not None and link_task is not None:
                await link.stop(link_task)
            effects.cancel()
            loops.cancel()
    driver.detach()
    logger.info("stopped")


def check_keys(config: DaemonConfig, keys: Keys) -> None:
    """What the configuration needs from the secrets file."""
    tokens = [i for i, r in enumerate(config.readers) if r.rules is not None]
    if keys.staff is None:
        if config.staff:
            raise ConfigError("staff", "staff cards need [staff_keys] in the secrets file")
        if tokens:
            raise ConfigError(
                f"readers[{tokens[0]}]",
                "line and keyboard readers need [staff_keys] in the secrets file",
            )
        return
    for i, card in enumerate(config.staff):
        if card.key_version not in keys.staff.secrets:
            raise ConfigError(
                f"staff[{i}].key_version",
                f"{card.key_version} is not a version of [staff_keys] "
                f"({', '.join(map(str, sorted(keys.staff.secrets)))})",
            )


def build_reader(setting: ReaderSetting, keys: Keys) -> ThreadedReader:
    device = setting.device
    if isinstance(device, SamConfig):
        return sam_reader(device, keys.owner, name=setting.name, backoff=setting.backoff)
    assert keys.staff is not None and setting.rules is not None  # check_keys, config_readers
    reader_keys = ReaderKeys(keys.owner, keys.codes, keys.staff)
    if isinstance(device, LineConfig):
        return line_reader(
            device, setting.rules, reader_keys, name=setting.name, backoff=setting.backoff
        )
    assert isinstance(device, HidConfig)
    return hid_reader(
        device, setting.rules, reader_keys, name=setting.name, backoff=setting.backoff
    )


def _consumer(
    service: LockerService, translator: SnapshotTranslator, effects: _Tasks
) -> SnapshotConsumer:
    async def consume(snapshot: BoardSnapshot) -> None:
        if snapshot.detail and snapshot.health in (Health.SUSPECT, Health.OFFLINE):
            logger.warning(
                "board %s",
                snapshot.health.value,
                extra={"board": str(snapshot.board), "detail": snapshot.detail},
            )
        for observation in translator.observations(snapshot):
            # Saved before the owner acknowledges the board's latches; effects in the background.
            decision = await service.observe(observation, spawn=effects.spawn)
            log_decision(type(observation).__name__, decision, board=str(snapshot.board))

    return consume


def log_decision(source: str, decision: Decision, **context: Any) -> None:
    """The events a decision emitted; their personal fields (owner keys) are left out."""
    for event in decision.events:
        extra: dict[str, Any] = {"source": source, "event": event.name, **context}
        for field in ("compartment", "open_id", "purpose", "outcome", "board", "reason"):
            value = getattr(event, field, None)
            if value is not None:
                extra[field] = value
        logger.info("event %s", event.name, extra=extra)


def _bus_health(owner: BusOwner) -> dict[str, Any]:
    stats = owner.statistics()
    return {
        "bus": stats.bus,
        "port": {
            "path": stats.port.path,
            "state": stats.port.state.value,
            "losses": stats.port.losses,
        },
        "boards": [
            {"board": str(b.board), "health": b.health.value, "identity": b.identity}
            for b in stats.boards
        ],
        "unlocks": dict(stats.unlocks),
        "transactions": stats.transactions,
    }


def _reader_health(reader: ThreadedReader) -> dict[str, Any]:
    stats = reader.statistics()
    return {
        "name": stats.name,
        "available": stats.available,
        "readings": stats.readings,
        "faults": stats.faults,
        "last_fault": None if stats.last_fault is None else stats.last_fault.value,
    }
