"""One owner per ground port: a second opener (another tool, another server) is refused by name,
and the lock goes with its holder (released on close, dropped by the kernel when it dies)."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.portlock import PortError, PortInUseError, PortLock, holder_pid
from tests.ground.conftest import REPOSITORY


@pytest.fixture
def port() -> Iterator[str]:
    master, slave = pty.openpty()  # a port nobody answers on: the lock is all that matters here
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def ground(dictionary_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ground.cli", "--dictionary", str(dictionary_path), *args],
                          capture_output=True, text=True, timeout=60, cwd=REPOSITORY, stdin=subprocess.DEVNULL)


def holder_of(port: str) -> int | None:
    return holder_pid(os.stat(port))


def test_a_second_opener_is_told_who_holds_the_port(port: str, dictionary_path: Path) -> None:
    with PortLock(port, "ilrs-ground serve", server="/run/test.sock"):
        with pytest.raises(PortInUseError) as refused:
            PortLock(port, "ilrs-ground console").acquire()
        assert str(refused.value) == (f"port {port} in use by PID {os.getpid()} (ilrs-ground serve); "
                                      "attach to it with --server /run/test.sock")
        # A standalone tool in another process: exit 2 and the same words, nothing sent.
        result = ground(dictionary_path, "--port", port, "send", "NOOP")
        assert result.returncode == 2
        assert f"port {port} in use by PID {os.getpid()} (ilrs-ground serve)" in result.stderr
        assert result.stdout == ""
    PortLock(port, "ilrs-ground console").acquire()  # released: the next opener gets it


def test_the_lock_dies_with_its_holder(port: str, dictionary_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-m", "ground.cli", "--dictionary", str(dictionary_path), "--port", port, "events",
         "--follow"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPOSITORY,
        stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while holder_of(port) != holder.pid:  # until the tool has opened the port (probing would race it)
            assert holder.poll() is None and time.monotonic() < deadline, "the tool never took the port"
            time.sleep(0.05)
        with pytest.raises(PortInUseError, match=f"in use by PID {holder.pid} \\(ilrs-ground events\\)"):
            PortLock(port, "test").acquire()
        holder.send_signal(signal.SIGKILL)  # no chance to clean up: the kernel drops the flock
        holder.wait(timeout=10)
        lock = PortLock(port, "test")
        lock.acquire()
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_missing_port_is_a_port_error_not_a_lock_error(tmp_path: Path) -> None:
    with pytest.raises(PortError, match="does not exist"):
        PortLock(str(tmp_path / "absent"), "test").acquire()
    PortLock("socket://localhost:1", "test").acquire()  # a URL has no device to lock
