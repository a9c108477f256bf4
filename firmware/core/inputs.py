"""Debouncing, sixteen inputs at a time.

Each kind of input (door switches, item sensors, lock feedback) is a list of
W words, channel 1 in bit 0 of word 0, exactly as the status block packs
them, so a sample costs W comparisons instead of one per channel. A word's
new level is accepted once its raw level has stayed the same for
`debounce_us`: a contact that bounces is read once, after it settles. The
price of doing it per word is that a channel bouncing delays the
acceptance of a change in another channel of the same sixteen by at most
the bounce's length (tens of milliseconds at a door; docs/firmware.md).

`stable` is what the board believes; `edges` the bits that changed in the
last `update`. Nothing allocates after construction.
"""

from .ticks import add, diff


class Debouncer:
    def __init__(self, words: int, debounce_us: int) -> None:
        self.debounce_us = debounce_us
        self.stable = [0] * words
        self.edges = [0] * words
        self._raw = [0] * words  # the raw level last seen
        self._since = [0] * words  # when the raw level last changed

    def reset(self, raw: "list[int]", now: int) -> None:
        """Power-up: the levels on the wires are the truth, no waiting."""
        for w in range(len(raw)):
            self.stable[w] = raw[w]
            self._raw[w] = raw[w]
            self._since[w] = now
            self.edges[w] = 0

    def update(self, raw: "list[int]", now: int) -> bool:
        changed = False
        stable = self.stable
        for w in range(len(raw)):
            level = raw[w]
            edges = 0
            if level != self._raw[w]:
                seen = self._raw[w]
                if seen != stable[w] and diff(now, self._since[w]) >= self.debounce_us:
                    # the level before this change had settled: it counts, even
                    # if no sample fell between its settling and its end
                    edges = seen ^ stable[w]
                    stable[w] = seen
                self._raw[w] = level
                self._since[w] = now
            if not edges and level != stable[w] and diff(now, self._since[w]) >= self.debounce_us:
                edges = level ^ stable[w]
                stable[w] = level
            if edges:
                changed = True
            self.edges[w] = edges
        return changed

    def pending(self) -> bool:
        for w in range(len(self.stable)):
            if self._raw[w] != self.stable[w]:
                return True
        return False

    def due(self, now: int, best: int) -> int:
        """The earlier of `best` (a delay in us from now, -1 for none) and
        the delay until the next acceptance."""
        for w in range(len(self.stable)):
            if self._raw[w] != self.stable[w]:
                wait = diff(add(self._since[w], self.debounce_us), now)
                wait = max(wait, 0)
                if best < 0 or wait < best:
                    best = wait
        return best
