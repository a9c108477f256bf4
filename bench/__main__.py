"""Run the benchmarks and print (or, with --write, record) their tables.

./run.sh bench               # print
./run.sh bench --write       # also rewrite the tables in docs/benchmarks.md
./run.sh bench --quick       # fewer transactions, for a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

from .harness import machine, markdown_table
from .wire_time import run_one

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
WIRE_CASES = [(9600, "8E1"), (19200, "8E1"), (115200, "8E1"), (115200, "8N1")]


def wire_section(transactions: int) -> str:
    rows = []
    for baud, frame in WIRE_CASES:
        r = run_one(baud, frame, transactions)
        rows.append(
            (
                f"{baud} {frame}",
                r.transactions,
                f"{r.theory_ms:.3f}",
                f"{r.host_median_ms:.3f}",
                f"{r.host_p95_ms:.3f}",
                f"{r.ratio:.3f}",
                f"{r.release_lag_median_us:.0f}",
                f"{r.release_lag_p95_us:.0f}",
                r.failures,
                r.silence_violations,
            )
        )
        print(f"  {baud} {frame}: ratio {r.ratio:.3f}", flush=True)
    header = (
        "line",
        "transactions",
        "theory ms",
        "host median ms",
        "host p95 ms",
        "ratio",
        "sim lag median us",
        "sim lag p95 us",
        "failed",
        "t3.5 violations",
    )
    return markdown_table(header, rows)


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"docs/benchmarks.md lacks the {name} markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--write", action="store_true", help="record the results in docs/")
    parser.add_argument("--quick", action="store_true", help="50 transactions instead of 500")
    args = parser.parse_args()
    transactions = 50 if args.quick else 500
    facts = f"{dt.date.today().isoformat()}: {machine()}\n"
    print(facts)
    print("wire time: simulator transactions against theory")
    table = wire_section(transactions)
    print(table)
    if args.write:
        text = DOC.read_text()
        text = replace_block(text, "wire-time", f"Run {facts}\n{table}")
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
