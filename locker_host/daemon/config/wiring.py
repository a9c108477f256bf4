"""The wiring map's fingerprint: what commissioning proves, as one hash.

A commissioning walk proves that pulsing the channel configured for a
compartment opens *that* door, and that the sensors read on that channel
are that door's. The proof holds only for the map it was made on, so it is
stored with `wiring_hash(config)`: a SHA-256 over the canonical JSON of
everything that decides which door a pulse opens and what a reading means
(each compartment's bus, unit, channel and declared sensors; each board's
family, channel count, polarity and relay input wiring). Anything else
(port paths, baud rates, timings, sizes, heights) can change without a new
walk; a change to the map cannot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from locker_host.bus import BoardConfig, BusConfig, RelayBoardConfig
from locker_host.domain import Layout

_FORMAT = 1  # bump when the fingerprinted fields change (every locker re-commissions)


def wiring_hash(layout: Layout, buses: tuple[BusConfig, ...]) -> str:
    document = {
        "format": _FORMAT,
        "compartments": sorted(
            [
                spec.id,
                spec.wiring.board.bus,
                spec.wiring.board.address,
                spec.wiring.channel,
                sorted(s.value for s in spec.sensors),
            ]
            for spec in layout
        ),
        "boards": sorted(
            [bus.name, board.unit, _board(board)] for bus in buses for board in bus.boards
        ),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _board(board: BoardConfig) -> dict[str, object]:
    polarity = asdict(board.polarity)
    if isinstance(board, RelayBoardConfig):
        inputs = [asdict(channel) for channel in board.channels]
        return {"family": board.family, "polarity": polarity, "inputs": inputs}
    return {"family": board.family, "polarity": polarity, "channels": board.locks}
