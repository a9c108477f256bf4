"""`python -m firmware`: build, flash, type-check, regenerate the register map.

    python -m firmware build              the bundle under build/firmware/
    python -m firmware flash --port PORT  build, then copy it onto a board with mpremote
    python -m firmware regmap             rewrite firmware/regmap.py from protocol/
    python -m firmware typecheck          mypy on rp2.py and main.py with MicroPython's stubs

Exit codes: 0 done, 1 a tool or the board failed, 2 a usage problem (a
missing tool or port: one line naming it and what to do).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .tools import build, flash, regmap, typecheck

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            manifest = build.build(args.out)
            files = manifest["files"]
            assert isinstance(files, list)
            size = sum(int(f["size"]) for f in files)
            print(f"{args.out}: {len(files)} files, {size} bytes ({manifest['mpy_cross']})")
            return EXIT_OK
        if args.command == "flash":
            flash.check_port(args.port)
            build.build(args.out)
            code = flash.flash(args.port, args.out)
            if code:
                print(f"firmware: mpremote failed (exit {code})", file=sys.stderr)
                return EXIT_FAILED
            print(f"flashed {args.port}; the board is resetting")
            return EXIT_OK
        if args.command == "regmap":
            print(f"wrote {regmap.write()}")
            return EXIT_OK
        return EXIT_OK if typecheck.run() == 0 else EXIT_FAILED
    except (build.ToolMissing, flash.NoPort) as exc:
        print(f"firmware: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except subprocess.CalledProcessError as exc:
        print(f"firmware: {' '.join(exc.cmd[-3:])} failed:\n{exc.stderr}", file=sys.stderr)
        return EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="compile the bundle into build/firmware/")
    flash_cmd = commands.add_parser("flash", help="build, then copy the bundle onto a board")
    flash_cmd.add_argument("--port", required=True, help="the board's USB serial port")
    for command in (build_cmd, flash_cmd):
        command.add_argument(
            "--out", type=Path, default=build.BUILD, help="where the bundle goes (build/firmware)"
        )
    commands.add_parser("regmap", help="rewrite firmware/regmap.py from protocol/")
    commands.add_parser("typecheck", help="mypy on the rp2 HAL with MicroPython's stubs")
    return parser


if __name__ == "__main__":
    sys.exit(main())
