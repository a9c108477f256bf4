"""The RS-485 bus adapter: one owner task per serial port, lock boards behind drivers.

Layout (each file has one job; the pure ones first):

    model         the adapter's values: BoardId, ChannelState, BoardSnapshot,
                  UnlockResult, BusStatistics (never the domain's types)
    config        BusConfig and the board configurations, validated
    errors        BusError tree: BusConfigError, BusUsageError, PortUnavailable, PortLost
    health        per-board health: online / suspect / offline, probe back-off (pure)
    timing        inter-frame gap and response timeout from the serial format (pure)
    drivers/      the driver port and one adapter per board family (sans-I/O)
    board_state   what the owner knows of one board; the round robin (pure)
    jobs          the priority queue: unlock > confirm > poll
    --- I/O ---
    transport     the serial device: pyserial to open, the event loop to read
    transaction   one request/reply: silence, write, read until an outcome
    port_keeper   the port's life: opened, lost, reopened with back-off
    board_work    what a job does with a board: start, read, unlock, acknowledge
    statistics    counters behind BusOwner.statistics()
    owner         BusOwner: the task that owns one port, and who goes next
    direct        DirectLine: one Modbus request at a time with no owner, for
                  commissioning (scan, set-address) while the daemon is stopped

Usage:

    async def consume(snapshot: BoardSnapshot) -> None: ...   # persist, then return

    async with BusOwner(config, consume) as owner:
        result = await owner.unlock(BoardId("bus0", 2), channel=5)
        snapshot = await owner.read_now(BoardId("bus0", 2))

Of the project, only `protocol` is imported.
"""

from .config import (
    BoardConfig,
    BusConfig,
    InputRef,
    KerongBoardConfig,
    ReferenceBoardConfig,
    RelayBoardConfig,
    RelayChannelConfig,
    SensorPolarity,
)
from .direct import DirectLine
from .errors import BusConfigError, BusError, BusUsageError, PortError, PortLost, PortUnavailable
from .model import (
    BoardId,
    BoardSnapshot,
    BoardStatistics,
    BusStatistics,
    ChannelState,
    DoorState,
    Health,
    ItemState,
    PortState,
    PortStatus,
    RoundTrips,
    UnlockOutcome,
    UnlockResult,
)
from .owner import BusOwner, SnapshotConsumer

__all__ = [
    "BoardConfig",
    "BoardId",
    "BoardSnapshot",
    "BoardStatistics",
    "BusConfig",
    "BusConfigError",
    "BusError",
    "BusOwner",
    "BusStatistics",
    "BusUsageError",
    "ChannelState",
    "DirectLine",
    "DoorState",
    "Health",
    "InputRef",
    "ItemState",
    "KerongBoardConfig",
    "PortError",
    "PortLost",
    "PortState",
    "PortStatus",
    "PortUnavailable",
    "ReferenceBoardConfig",
    "RelayBoardConfig",
    "RelayChannelConfig",
    "RoundTrips",
    "SensorPolarity",
    "SnapshotConsumer",
    "UnlockOutcome",
    "UnlockResult",
]
