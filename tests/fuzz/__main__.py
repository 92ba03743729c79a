"""``make fuzz``: a long fuzz of the deframer, the packet decoder and the command decoder.

Uses atheris (coverage-guided libFuzzer) when it is installed, else a seeded mutation fuzzer.
Each target runs in its own process; prints the inputs tried per second for each.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable

from tests.fuzz import targets

TARGETS = ("deframer", "packet", "command")


def make_target(name: str) -> Callable[[bytes], object]:
    if name == "deframer":
        return targets.deframe
    if name == "packet":
        return targets.decode_packet
    return targets.CommandDecoder()


def random_inputs(seed: int, seconds: float, target: Callable[[bytes], object]) -> int:
    rng = random.Random(seed)
    corpus = [bytes.fromhex("00061864c000000e2f110100009f7a00"), b"\x00" * 10, b"\x18\x64"]
    deadline = time.monotonic() + seconds
    tried = 0
    while time.monotonic() < deadline:
        base = bytearray(rng.choice(corpus))
        for _ in range(rng.randint(0, 8)):
            action = rng.random()
            if action < 0.4 and base:
                base[rng.randrange(len(base))] ^= 1 << rng.randrange(8)
            elif action < 0.7:
                base[rng.randrange(len(base) + 1):0] = rng.randbytes(rng.randint(1, 32))
            elif base:
                del base[rng.randrange(len(base)):][: rng.randint(1, 8)]
        data = bytes(base)
        target(data)
        if rng.random() < 0.01 and len(corpus) < 256:
            corpus.append(data)
        tried += 1
    return tried


def run_child(name: str, engine: str, seconds: float, seed: int) -> int:
    target = make_target(name)
    if engine == "random":
        started = time.monotonic()
        tried = random_inputs(seed, seconds, target)
        print(f"Done {tried} runs in {time.monotonic() - started:.1f} second(s)")
        return 0
    import atheris

    atheris.instrument_all()  # coverage feedback for every module already imported
    atheris.Setup([sys.argv[0], f"-seed={seed}", "-max_len=600", "-rss_limit_mb=2048",
                   f"-max_total_time={max(1, round(seconds))}", "-artifact_prefix=build/fuzz-"], target)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="time per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    if args.child:
        return run_child(args.child, engine, args.seconds, args.seed)
    findings = 0
    for name in TARGETS:
        child = subprocess.run(
            [sys.executable, "-m", "tests.fuzz", "--child", name, "--engine", engine, "--seconds", str(args.seconds),
             "--seed", str(args.seed)],
            capture_output=True, text=True, check=False, timeout=args.seconds * 3 + 60,
        )
        output = child.stdout + child.stderr
        done = re.search(r"Done (\d+) runs in ([\d.]+) second", output)
        if child.returncode != 0 or done is None:
            findings += 1
            print(f"{name}: FINDING (exit {child.returncode})\n{output[-3000:]}")
            continue
        runs, seconds = int(done.group(1)), float(done.group(2))
        rate = runs / max(seconds, 1e-9)
        print(f"{name}: {runs} inputs in {seconds:.0f} s, {rate:,.0f} inputs/s ({engine}), no finding")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
