"""One owner per ground port: an exclusive ``flock`` on the device itself.

Two programs reading the same serial port each get part of the telemetry and part of the
verification reports (a packet read by one is gone for the other), so whoever opens a port first
owns it: the ground server (``ilrs-ground serve``) or one standalone tool. The lock is a
``flock(LOCK_EX | LOCK_NB)`` on a descriptor of the device node, so it works for any user and any
directory, and the kernel drops it when the holder dies (no stale lock after a crash).

The holder is named from ``/proc/locks`` (which records the PID of every flock) and its command
line; the owner also leaves a small description file (role, server socket) in a per-user runtime
directory so that the refusal can say how to attach instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from pathlib import Path


class PortError(ConnectionError):
    """The port does not exist or cannot be opened."""


class PortInUseError(PortError):
    """The port is held by another process (a server or another tool)."""


def runtime_directory() -> Path:
    """``$XDG_RUNTIME_DIR/ilrs-ground`` or ``/tmp/ilrs-ground-UID``: private to this user."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "ilrs-ground" if base else Path(f"/tmp/ilrs-ground-{os.getuid()}")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _device_key(stat: os.stat_result) -> str:
    return f"{stat.st_dev:x}-{stat.st_ino:x}"


def holder_pid(stat: os.stat_result) -> int | None:
    """PID of the process holding a flock on this inode, from ``/proc/locks`` (Linux)."""
    wanted = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4409 00:1a:5 0 EOF" (blocked waiters are marked "->")
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
            with contextlib.suppress(ValueError):
                return int(fields[4])
    return None


def _command_line(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    text = [word.decode(errors="replace") for word in words if word]
    # "python -m ground.cli --port P serve" reads as "ilrs-ground serve".
    for index, word in enumerate(text):
        if word.endswith(("ground.cli", "ilrs-ground")):
            subcommand = next((w for w in text[index + 1:] if w in _SUBCOMMANDS), "")
            return f"ilrs-ground {subcommand}".rstrip()
    return " ".join(text)[:60]


_SUBCOMMANDS = ("serve", "console", "send", "tlm", "events", "params", "ping", "run", "archive")


class PortLock:
    """Exclusive ownership of one port while held; ``role`` says who holds it (for the refusal)."""

    def __init__(self, port: str, role: str, *, server: str | None = None) -> None:
        self.port = port
        self.role = role
        self.server = server
        self._fd: int | None = None
        self._owner_file: Path | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ``PortInUseError`` naming the holder. URLs (``socket://``) have no
        device to lock and are taken as they are."""
        if "://" in self.port or self._fd is not None:
            return
        try:
            fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise PortError(f"port {self.port} does not exist") from None
        except OSError as error:
            raise PortError(f"cannot open {self.port}: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            stat = os.fstat(fd)
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise PortInUseError(self._describe_holder(stat)) from None
            raise PortError(f"cannot lock {self.port}: {error.strerror}") from None
        self._fd = fd
        self._write_owner_file(os.fstat(fd))

    def release(self) -> None:
        if self._owner_file is not None:
            with contextlib.suppress(OSError):
                self._owner_file.unlink()
            self._owner_file = None
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> PortLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _write_owner_file(self, stat: os.stat_result) -> None:
        with contextlib.suppress(OSError):
            path = runtime_directory() / f"port-{_device_key(stat)}.json"
            path.write_text(json.dumps({"pid": os.getpid(), "role": self.role, "port": self.port,
                                        "server": self.server}))
            self._owner_file = path

    def _describe_holder(self, stat: os.stat_result) -> str:
        pid = holder_pid(stat)
        owner: dict[str, object] = {}
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads((runtime_directory() / f"port-{_device_key(stat)}.json").read_text())
        if pid is None and isinstance(owner.get("pid"), int):
            pid = int(owner["pid"])  # type: ignore[call-overload]
        if pid is None:
            return f"port {self.port} in use by another process"
        role = str(owner["role"]) if owner.get("pid") == pid and owner.get("role") else _command_line(pid)
        message = f"port {self.port} in use by PID {pid}" + (f" ({role})" if role else "")
        if owner.get("pid") == pid and owner.get("server"):
            message += f"; attach to it with --server {owner['server']}"
        return message
