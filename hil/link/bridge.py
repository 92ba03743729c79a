"""Pseudo-terminal null-modem bridge: two ptys joined like a crossed serial cable, with impairment.

The I/O here is thin: non-blocking master fds watched with ``loop.add_reader``, octets handed to a
``LinkImpairment`` per direction, and deliveries written out by ``loop.call_at`` timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections import deque
from pathlib import Path

from .impairment import ImpairmentConfig, LinkImpairment, direction_rng

READ_SIZE = 65536
# Flow control: with this many octets in flight (delayed, paced, or waiting for a receiver that does
# not read), the bridge stops reading the sender, whose writes then block as on a full UART; it reads
# again once half have gone out. 1 MiB covers the bandwidth-delay product of any link modelled here.
MAX_IN_FLIGHT = 1 << 20
# asyncio may run a timer up to its clock resolution early; deliveries within this are due.
_DUE_TOLERANCE_S = 1e-6


class PtyPair:
    """One pseudo-terminal in raw mode. The slave fd stays open for the pair's lifetime, so a client
    closing and reopening the slave never hangs up the master (no EIO on the bridge side)."""

    def __init__(self) -> None:
        self.master_fd, self.slave_fd = os.openpty()
        # Raw at once: no echo and no line discipline before any client opens the slave.
        tty.setraw(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.slave_name = os.ttyname(self.slave_fd)
        self._published: list[Path] = []

    def publish(self, path: str | os.PathLike[str]) -> Path:
        """Make ``path`` a symlink to the slave tty. A stale symlink is replaced; any other file is not."""
        link = Path(path)
        if os.path.lexists(link) and not link.is_symlink():
            raise FileExistsError(f"{link} exists and is not a symlink")
        staging = link.with_name(f".{link.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        staging.symlink_to(self.slave_name)
        staging.replace(link)  # atomic: a client never sees the path missing or half made
        self._published.append(link)
        return link

    def unpublish(self) -> None:
        """Remove the symlinks this pair made, if they still point at this pair."""
        for link in self._published:
            with contextlib.suppress(OSError):
                if os.readlink(link) == self.slave_name:
                    link.unlink()
        self._published.clear()

    def close(self) -> None:
        self.unpublish()
        for fd in (self.master_fd, self.slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Direction:
    """Octets read from one master, impaired, written to the other master on time."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, source_fd: int, dest_fd: int, impairment: LinkImpairment
    ) -> None:
        self.loop = loop
        self.source_fd = source_fd
        self.dest_fd = dest_fd
        self.impairment = impairment
        self.queue: deque[tuple[float, bytes]] = deque()
        self.timer: asyncio.TimerHandle | None = None
        self.output = bytearray()
        self.writer_armed = False
        self.reading = False
        self.in_flight = 0
        self.bytes_out = 0
        self.flow_control_pauses = 0

    def start(self) -> None:
        self.loop.add_reader(self.source_fd, self.on_readable)
        self.reading = True

    def stop(self) -> None:
        if self.reading:
            self.loop.remove_reader(self.source_fd)
            self.reading = False
        if self.writer_armed:
            self.loop.remove_writer(self.dest_fd)
            self.writer_armed = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def on_readable(self) -> None:
        try:
            data = os.read(self.source_fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as error:
            if error.errno == errno.EIO:  # no slave open; cannot happen while the pair holds its slave
                return
            raise
        if not data:
            return
        deliveries = self.impairment.feed(self.loop.time(), data)
        self.in_flight += sum(len(chunk) for _, chunk in deliveries)
        self.queue.extend(deliveries)
        if self.in_flight >= MAX_IN_FLIGHT:
            self.loop.remove_reader(self.source_fd)
            self.reading = False
            self.flow_control_pauses += 1
        self.schedule()

    def schedule(self) -> None:
        if self.timer is None and self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.deliver_due)

    def deliver_due(self) -> None:
        self.timer = None
        now = self.loop.time() + _DUE_TOLERANCE_S
        queue = self.queue
        while queue and queue[0][0] <= now:
            self.output += queue.popleft()[1]
        self.flush()
        self.schedule()

    def flush(self) -> None:
        while self.output:
            try:
                written = os.write(self.dest_fd, self.output)
            except BlockingIOError:
                break
            self.bytes_out += written
            self.in_flight -= written
            del self.output[:written]
        if self.output and not self.writer_armed:
            self.loop.add_writer(self.dest_fd, self.flush)
            self.writer_armed = True
        elif not self.output and self.writer_armed:
            self.loop.remove_writer(self.dest_fd)
            self.writer_armed = False
        if not self.reading and self.in_flight <= MAX_IN_FLIGHT // 2:
            self.loop.add_reader(self.source_fd, self.on_readable)
            self.reading = True

    def counters(self) -> dict[str, int]:
        counters = self.impairment.counters_dict(self.loop.time())
        del counters["bytes_kept"]
        return {
            "bytes_in": counters.pop("bytes_in"),
            "bytes_out": self.bytes_out,
            **counters,
            "bytes_in_flight": self.in_flight,
            "flow_control_pauses": self.flow_control_pauses,
        }


class NullModemBridge:
    """Joins two ``PtyPair`` like a null-modem cable: what a client writes on A is read on B and back.

    Use inside a running event loop: ``start()``, later ``stop()``; ``counters()`` at any time.
    """

    def __init__(
        self,
        a: PtyPair,
        b: PtyPair,
        a_to_b: ImpairmentConfig | None = None,
        b_to_a: ImpairmentConfig | None = None,
        seed: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.a = a
        self.b = b
        self.loop = loop or asyncio.get_running_loop()
        now = self.loop.time()
        self.a_to_b = _Direction(
            self.loop,
            a.master_fd,
            b.master_fd,
            LinkImpairment(a_to_b or ImpairmentConfig(), direction_rng(seed, "A->B"), start_time=now),
        )
        self.b_to_a = _Direction(
            self.loop,
            b.master_fd,
            a.master_fd,
            LinkImpairment(b_to_a or ImpairmentConfig(), direction_rng(seed, "B->A"), start_time=now),
        )

    def start(self) -> None:
        self.a_to_b.start()
        self.b_to_a.start()

    def stop(self) -> None:
        self.a_to_b.stop()
        self.b_to_a.stop()

    def counters(self) -> dict[str, dict[str, int]]:
        return {"A->B": self.a_to_b.counters(), "B->A": self.b_to_a.counters()}

    async def __aenter__(self) -> NullModemBridge:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
