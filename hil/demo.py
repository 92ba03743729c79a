"""``make run``: the link, the flight software and the ground as separate processes over ptys.

Starts ``ilrs-hil link`` (two ptys bridged like a null-modem cable), ``ilrs-fsw run`` on one end
and ``ilrs-ground ping`` on the other, then shuts everything down. Exit 0 only when every step
worked.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hil.link.process import running_link


def _wait_for_line(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until a process's log shows ``text`` (its boot event), or it exits, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if text in path.read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hil.demo", description=__doc__)
    parser.add_argument("--run-dir", type=Path, help="folder for the ports, store and logs (default: a new one)")
    parser.add_argument("--pings", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0, help="one-way link delay in seconds")
    args = parser.parse_args(argv)
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="ilrs-run-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    fsw_port, ground_port = run_dir / "fsw.tty", run_dir / "ground.tty"
    started = time.monotonic()
    print(f"run folder: {run_dir}")
    link_args = ["--delay", str(args.delay)] if args.delay else []
    with running_link(fsw_port, ground_port, *link_args):
        print(f"link up: fsw={fsw_port} ground={ground_port}")
        fsw_log = (run_dir / "fsw.log").open("w")
        fsw = subprocess.Popen(
            [sys.executable, "-m", "fsw.cli", "run", "--port", str(fsw_port), "--store",
             str(run_dir / "fsw-store.sqlite"), "--verbose"],
            stdout=fsw_log, stderr=subprocess.STDOUT,
        )
        try:
            if not _wait_for_line(run_dir / "fsw.log", "BOOT", fsw, timeout=15.0):
                print("fsw did not boot", file=sys.stderr)
                return 1
            ping = subprocess.run(
                [sys.executable, "-m", "ground.cli", "--port", str(ground_port), "ping", "--count", str(args.pings),
                 "--timeout", str(5.0 + 2 * args.delay)],
                check=False,
            )
        finally:
            fsw.terminate()
            fsw_code = fsw.wait(15)
            fsw_log.close()
    print(f"fsw exited {fsw_code}; ground ping exited {ping.returncode}; wall time {time.monotonic() - started:.1f} s")
    print(f"flight log: {run_dir / 'fsw.log'}")
    return 0 if ping.returncode == 0 and fsw_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
