"""Run ``ilrs-hil link`` as a child process from tests, benchmarks and demos."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .command import READY_PREFIX, STATS_PREFIX


class LinkStartError(RuntimeError):
    pass


def start_link_process(
    a: str | os.PathLike[str], b: str | os.PathLike[str], *extra_args: str, timeout: float = 10.0
) -> subprocess.Popen[str]:
    """Start the bridge and return once its symlinks exist (its ready line was printed).

    The process's stdout stays a pipe; ``stop_link_process`` collects the counters from it.
    """
    command = [sys.executable, "-m", "hil.cli", "link", "--a", os.fspath(a), "--b", os.fspath(b), *extra_args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                process.kill()
                _, err = process.communicate()
                raise LinkStartError(f"link not ready after {timeout} s: {err.strip()}")
            line = process.stdout.readline()
            if line.startswith(READY_PREFIX):
                return process
            if not line:  # exited before becoming ready
                _, err = process.communicate()
                raise LinkStartError(f"link exited with {process.returncode}: {err.strip()}")


def stop_link_process(process: subprocess.Popen[str], timeout: float = 10.0) -> str:
    """SIGTERM the bridge, wait for it, and return what it printed after the ready line."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out


@contextmanager
def running_link(
    a: str | os.PathLike[str], b: str | os.PathLike[str], *extra_args: str, timeout: float = 10.0
) -> Iterator[subprocess.Popen[str]]:
    """``with running_link(a, b, "--delay", "1.28") as proc:`` ... the bridge stops on exit."""
    process = start_link_process(a, b, *extra_args, timeout=timeout)
    try:
        yield process
    finally:
        stop_link_process(process, timeout=timeout)


_STATS_LINE = re.compile(rf"^{re.escape(STATS_PREFIX)} (\S+): (.*)$", re.MULTILINE)


def parse_counters(output: str) -> dict[str, dict[str, int]]:
    """Counters per direction ("A->B", "B->A") from the bridge's exit output."""
    counters: dict[str, dict[str, int]] = {}
    for match in _STATS_LINE.finditer(output):
        pairs = (item.split("=", 1) for item in match.group(2).split())
        counters[match.group(1)] = {name: int(value) for name, value in pairs}
    return counters
