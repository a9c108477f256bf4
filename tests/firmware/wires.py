"""The raw levels on a board's input wires, set channel by channel (1-based)."""

from __future__ import annotations

from simulator.micropython import RemoteBoard


class Wires:
    """Door switch 1 = closed, item sensor 1 = present, lock feedback 1 = released."""

    def __init__(self, board: RemoteBoard, channels: int = 24) -> None:
        words = (channels + 15) // 16
        self.board = board
        self.door = [0] * words
        self.item = [0] * words
        self.feedback = [0] * words

    def set(self, field: list[int], channel: int, level: bool, now: int) -> None:
        word, bit = (channel - 1) >> 4, 1 << ((channel - 1) & 15)
        field[word] = field[word] | bit if level else field[word] & ~bit
        self.board.set_inputs(self.door, self.item, self.feedback, now)

    def close_all(self, channels: int, now: int) -> None:
        for ch in range(channels):
            self.door[ch >> 4] |= 1 << (ch & 15)
        self.board.set_inputs(self.door, self.item, self.feedback, now)
