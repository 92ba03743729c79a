"""Run every benchmark, print a table, and write build/bench.json."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .rows import DEFAULT_OUTPUT, Budget, format_table, run_all, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of each timed run (default 0.2 s)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per operation, best kept (default 5)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON output path")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = run_all(Budget(seconds=args.seconds, repeat=args.repeat))
    print(format_table(rows))
    path = write_json(rows, args.output)
    print(f"\n{len(rows)} rows in {time.monotonic() - started:.1f} s, written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
