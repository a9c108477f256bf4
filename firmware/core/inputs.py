"""Debouncing, sixteen inputs at a time.

Each kind of input (door switches, item sensors, lock feedback) is a list of
W words, channel 1 in bit 0 of word 0, exactly as the status block packs
them, so a sample where nothing moves costs W comparisons instead of one
per channel. An input's new level is accepted once its raw level has
stayed the same for `debounce_us`: a contact that bounces is read once,
after it settles. Each input keeps its own time of change, so a switch
that chatters delays nobody else: with one time per word, a neighbour
changing during a door's opening restarted the wait for all sixteen, and
an opening held longer than the debounce could be lost (or a chattering
switch hide every door of its sixteen for as long as it chattered).

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
        self._since = [0] * (16 * words)  # per input: when its raw level last changed

    def reset(self, raw: "list[int]", now: int) -> None:
        """Power-up: the levels on the wires are the truth, no waiting."""
        for w in range(len(raw)):
            self.stable[w] = raw[w] & 0xFFFF
            self._raw[w] = raw[w] & 0xFFFF
            self.edges[w] = 0
        for i in range(len(self._since)):
            self._since[i] = now

    def update(self, raw: "list[int]", now: int) -> bool:
        changed = False
        stable = self.stable
        since = self._since
        debounce_us = self.debounce_us
        for w in range(len(raw)):
            level = raw[w] & 0xFFFF
            seen = self._raw[w]
            moved = level ^ seen
            base = w << 4
            edges = 0
            if moved:
                unsettled = seen ^ stable[w]
                for b in range(16):
                    if moved >> b & 1:
                        # the level before this change had settled: it counts, even
                        # if no sample fell between its settling and its end
                        if unsettled >> b & 1 and diff(now, since[base + b]) >= debounce_us:
                            edges |= 1 << b
                        since[base + b] = now
                self._raw[w] = level
                stable[w] ^= edges
            differ = (level ^ stable[w]) & ~edges
            if differ:
                accepted = 0
                for b in range(16):
                    if differ >> b & 1 and diff(now, since[base + b]) >= debounce_us:
                        accepted |= 1 << b
                stable[w] ^= accepted
                edges |= accepted
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
        since = self._since
        for w in range(len(self.stable)):
            differ = self._raw[w] ^ self.stable[w]
            if not differ:
                continue
            base = w << 4
            for b in range(16):
                if differ >> b & 1:
                    wait = diff(add(since[base + b], self.debounce_us), now)
                    wait = max(wait, 0)
                    if best < 0 or wait < best:
                        best = wait
        return best
