"""The firmware core's figures (issue 12): heap and time, under MicroPython.

* **bytes allocated per frame** in steady state: a 48-channel board's main
  loop fed 10,000 status polls, acks and unlock writes through the sim HAL's
  UART buffer after a warm-up, `gc.mem_alloc()` before and after with the
  collector disabled (target 0: a collection in the frame path breaks Modbus
  timing on a board). The feeding loop alone is measured the same way.
* **heap of a 48-channel board**: `gc.mem_alloc()` after `gc.collect()`
  before the firmware is imported, then at the peak (collector disabled
  throughout, after the warm-up): code + data, and data alone (the board,
  its HAL and buffers, over the imported modules). Target <= 24 KiB.
* **core time per status poll** (24 channels, the request in the UART
  buffer to the reply written, two passes of the main loop, less the
  feeding loop's own time) under MicroPython's WebAssembly build in node
  and under CPython, beside the old model (simulator/boards/reference.py
  as of 1ee4e78, loaded from git: `on_request` of the same poll) under
  CPython, the baseline of the ratio column.

`python -m bench.firmware` prints the table; `./run.sh bench --only firmware`.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from firmware.tools.build import ENTRY, PACKAGE, board_modules, compile_module
from protocol import reference_board as rb
from protocol.modbus import encode_request
from simulator.micropython import run_script
from simulator.physics import Compartment, Size

from .harness import markdown_table

ROOT = Path(__file__).resolve().parent.parent
LOOP = Path(__file__).with_name("firmware_loop.py")
OLD_MODEL = "1ee4e78:simulator/boards/reference.py"
HEAP_TARGET = 24 * 1024
POLLS = 2000

# MicroPython only: the prelude measures the heap before firmware_loop.py
# imports the firmware; the tail after it measures everything else. The
# collector stays disabled while measuring, so that mem_alloc only grows and
# its last value is the peak.
PRELUDE = """import gc
gc.collect()
BASE = gc.mem_alloc()
gc.disable()
"""
HEAP = """
# everything allocated up to here is code: bytecode compiled from the .py
# files, module dicts, the loop's own functions
IMPORT_PEAK = gc.mem_alloc()
gc.collect()
CODE = gc.mem_alloc()
gc.disable()
bench = Bench(48)
for request in (bench.poll, bench.ack, bench.unlock):
    bench.feed(request, 200, True)  # warm-up: every path taken, coils and latches settled
PEAK = gc.mem_alloc()
gc.enable()
print("heap_import_peak", IMPORT_PEAK - BASE)
print("heap_code_and_data", PEAK - BASE)
print("heap_data", PEAK - CODE)


def allocated(request, frames, step):
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    bench.feed(request, frames, step)
    after = gc.mem_alloc()
    gc.enable()
    return after - before


FRAMES = 10000
for name, request in (("poll", bench.poll), ("ack", bench.ack), ("unlock", bench.unlock)):
    bench.replies[0] = 0
    print("alloc_" + name, allocated(request, FRAMES, True), "replies", bench.replies[0])
print("alloc_harness", allocated(bench.poll, FRAMES, False))
print("faults", bench.firmware.faults)
print("poll_us", Bench(24).poll_us(2000))
"""


def compiled_firmware(out: Path) -> Path:
    """The firmware as a board loads it: every module compiled by mpy-cross, as
    `python -m firmware build` does, plus the sim HAL the benchmark drives it with."""
    for module in (*board_modules(), Path("hal/sim.py")):
        if module.as_posix() != ENTRY:
            compile_module(PACKAGE / module, out / module.with_suffix(".mpy"))
    return out


def micropython_figures(firmware_dir: Path | None = None) -> dict[str, int | float]:
    if firmware_dir is None:
        out = run_script(PRELUDE + LOOP.read_text() + HEAP)
    else:
        out = run_script(PRELUDE + LOOP.read_text() + HEAP, firmware_dir=firmware_dir)
    figures: dict[str, int | float] = {}
    for line in out.splitlines():
        key, value, *rest = line.split()
        figures[key] = float(value) if "." in value else int(value)
        if rest[:1] == ["replies"]:
            figures[key + "_replies"] = int(rest[1])
    return figures


def cpython_poll_us() -> float:
    space: dict[str, Any] = {"__name__": "firmware_loop"}
    exec(compile(LOOP.read_text(), str(LOOP), "exec"), space)
    return float(space["Bench"](24).poll_us(POLLS))


def old_model() -> ModuleType:
    """The deleted board model, from git, in a temporary module (nothing dead in the tree)."""
    source = subprocess.run(
        ["git", "show", OLD_MODEL], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.replace("from ..physics import", "from simulator.physics import")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location("old_reference_board", f.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses looks its module up there
    try:
        spec.loader.exec_module(module)
    finally:
        Path(f.name).unlink()
    return module


def old_model_poll_us() -> float:
    comps = [Compartment(f"A{i:02d}", Size.S) for i in range(1, 25)]
    board = old_model().ReferenceBoard(1, comps, now=0.0)
    poll = encode_request(1, rb.status_request(24))
    for i in range(100):
        board.on_request(poll, i * 0.005)
    start = time.perf_counter_ns()
    for i in range(POLLS):
        board.on_request(poll, 1.0 + i * 0.005)
    return (time.perf_counter_ns() - start) / 1000 / POLLS


def run() -> str:
    mp = micropython_figures()
    with tempfile.TemporaryDirectory() as tmp:
        deployed = micropython_figures(compiled_firmware(Path(tmp) / "firmware"))
    cpython = cpython_poll_us()
    old = old_model_poll_us()
    met = {True: "yes", False: "no"}
    rows: list[tuple[object, ...]] = []
    for name in ("poll", "ack", "unlock"):
        allocated = int(mp[f"alloc_{name}"])
        replies = mp[f"alloc_{name}_replies"]
        rows.append(
            (
                f"heap allocated per frame, {name} (MicroPython, 48 ch)",
                f"10000 ({replies} replies)",
                f"{allocated / 10000:.2f} B ({allocated} B in all)",
                f"feeding loop alone {mp['alloc_harness']} B",
                "-",
                "0 B",
                met[allocated == 0],
            )
        )
    code_and_data, data = int(mp["heap_code_and_data"]), int(mp["heap_data"])
    rows.append(
        (
            "heap high-water, code + data (MicroPython, 48 ch, from .py)",
            "-",
            f"{code_and_data / 1024:.1f} KiB",
            f"import peak {int(mp['heap_import_peak']) / 1024:.1f} KiB",
            f"{code_and_data / HEAP_TARGET:.2f}",
            "<= 24 KiB",
            met[code_and_data <= HEAP_TARGET],
        )
    )
    deployed_peak = int(deployed["heap_code_and_data"])
    rows.append(
        (
            "heap high-water, code + data (MicroPython, 48 ch, from .mpy as deployed)",
            "-",
            f"{deployed_peak / 1024:.1f} KiB",
            f"import peak {int(deployed['heap_import_peak']) / 1024:.1f} KiB",
            f"{deployed_peak / HEAP_TARGET:.2f}",
            "<= 24 KiB",
            met[deployed_peak <= HEAP_TARGET],
        )
    )
    rows.append(
        (
            "heap high-water, data alone (MicroPython, 48 ch)",
            "-",
            f"{data / 1024:.1f} KiB",
            "-",
            f"{data / HEAP_TARGET:.2f}",
            "<= 24 KiB",
            met[data <= HEAP_TARGET],
        )
    )
    baseline = f"old model, CPython {old:.1f} us"
    for label, value in (("MicroPython 1.29 WASM", mp["poll_us"]), ("CPython", cpython)):
        rows.append(
            (
                f"core time per status poll, {label} (24 ch)",
                POLLS,
                f"{value:.1f} us",
                baseline,
                f"{value / old:.2f}",
                "report",
                "-",
            )
        )
    rows.append(
        ("old model's on_request per status poll, CPython (24 ch)", POLLS, f"{old:.1f} us",
         baseline, "1.00", "report", "-")
    )  # fmt: skip
    header = ("measurement", "n", "measured", "baseline", "ratio", "target", "met")
    return markdown_table(header, rows)


if __name__ == "__main__":
    print(run(), file=sys.stdout)
