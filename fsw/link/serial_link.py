"""An asyncio serial link on pyserial: COBS frames in and out, never blocking the event loop.

Ports are device paths (``/dev/ttyUSB0``, ``/dev/ttyAMA0``, a pty) or pyserial URLs (``loop://``,
``socket://host:port``, ``rfc2217://...``). Ports with a file descriptor are read with
``loop.add_reader`` and written non-blocking; URL ports without one are served by a reader thread.
When the device disappears (a USB-UART unplugged on a bench) the link closes it, retries the open
every ``reconnect_interval`` seconds, and reports both through ``on_state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from fsw.protocol.framing import Deframer, frame
from fsw.protocol.packet import DEFAULT_MAX_PACKET_SIZE

RECEIVE_QUEUE_DEPTH = 1024
# Octets queued for a device that is gone or does not read, at most: about 45 s of a 115,200 baud
# line (11.5 kB/s) [est.], a few minutes of the lander's housekeeping. Beyond it the oldest frames
# not yet begun give way, counted: after an outage the ground wants the newest state first, and a
# flight computer's memory must not grow with the length of the outage.
OUTPUT_BACKLOG_OCTETS = 512 * 1024


class LinkClosedError(ConnectionError):
    """The link was closed by its owner."""


@dataclass
class LinkCounters:
    octets_in: int = 0
    octets_out: int = 0
    packets_in: int = 0
    packets_out: int = 0
    receive_overflows: int = 0
    output_dropped: int = 0  # queued packets given up, oldest first, when the backlog was full
    disconnects: int = 0
    reconnects: int = 0
    write_errors: int = 0


class SerialLink:
    """One end of a serial link carrying space packets.

    ``validate`` is applied to each deframed packet (for instance ``PusTc.unpack`` on the flight
    side); rejected frames are counted in ``deframer.rejected``, never raised.
    """

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        *,
        validate: Callable[[bytes], Any] | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        reconnect_interval: float = 0.5,
        on_state: Callable[[str, str], None] | None = None,
        max_backlog_octets: int = OUTPUT_BACKLOG_OCTETS,
    ) -> None:
        if max_backlog_octets < 2 * max_packet_size + 4:
            raise ValueError(f"max_backlog_octets {max_backlog_octets} holds less than two packets "
                             f"of {max_packet_size}")
        self.port = port
        self.max_backlog_octets = max_backlog_octets
        self.baud = baud
        self.reconnect_interval = reconnect_interval
        self.deframer = Deframer(validate, max_packet_size)
        self.counters = LinkCounters()
        self._on_state = on_state or (lambda state, detail: None)
        self._serial: serial.SerialBase | None = None
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        self._writer_thread: threading.Thread | None = None
        self._write_queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread_stop = threading.Event()
        self._received: asyncio.Queue[tuple[bytes, Any]] = asyncio.Queue(RECEIVE_QUEUE_DEPTH)
        self._arrival_waiters: list[asyncio.Future[None]] = []
        self._handler: Callable[[bytes, Any], None] | None = None
        self._pending_out = bytearray()
        self._flush_scheduled = False
        self._connected = asyncio.Event()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reconnect_task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def open(self) -> None:
        """Open the port; raises ``serial.SerialException`` when it cannot be opened now."""
        self._loop = asyncio.get_running_loop()
        self._open_port()

    async def open_fd(self, fd: int) -> None:
        """Serve an already open descriptor (a pty master this process made) instead of a path."""
        self._loop = asyncio.get_running_loop()
        self._fd = fd
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)
        self._connected.set()
        self._on_state("connected", f"fd {fd}")

    async def open_with_retry(self) -> None:
        """Open the port, retrying in the background until it appears."""
        self._loop = asyncio.get_running_loop()
        try:
            self._open_port()
        except (serial.SerialException, OSError) as error:
            self._on_state("waiting", f"{self.port}: {error}")
            self._schedule_reconnect()

    def _open_port(self) -> None:
        assert self._loop is not None
        port = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0, write_timeout=0, exclusive=False)
        self._serial = port
        fd: int | None = None
        with contextlib.suppress(AttributeError, OSError, ValueError, TypeError, serial.SerialException):
            fd = port.fileno()
        if isinstance(fd, int) and fd >= 0:
            self._fd = fd
            os.set_blocking(fd, False)
            self._loop.add_reader(fd, self._on_readable)
        else:
            # No descriptor to poll (loop://, socket://, rfc2217://): blocking I/O on two threads.
            self._fd = None
            port.timeout = 0.05
            port.write_timeout = None
            self._thread_stop.clear()
            self._write_queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._reader_thread, args=(port,), daemon=True)
            self._thread.start()
            self._writer_thread = threading.Thread(
                target=self._writer_loop, args=(port, self._write_queue), daemon=True
            )
            self._writer_thread.start()
        self._connected.set()
        self._on_state("connected", self.port)
        if self._pending_out:
            self._flush()

    # --- receiving -------------------------------------------------------------------------
    def _on_readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError as error:
            self._lost(f"read failed: {error}")
            return
        if not data:
            self._lost("end of file")
            return
        self._accept(data)

    def _reader_thread(self, port: serial.SerialBase) -> None:
        loop = self._loop
        assert loop is not None
        while not self._thread_stop.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as error:
                if not self._thread_stop.is_set():
                    loop.call_soon_threadsafe(self._lost, f"read failed: {error}")
                return
            if data:
                loop.call_soon_threadsafe(self._accept, data)

    def _accept(self, data: bytes) -> None:
        self.counters.octets_in += len(data)
        for item in self.deframer.feed(data):
            self.counters.packets_in += 1
            if self._handler is not None:
                self._handler(*item)
                continue
            try:
                self._received.put_nowait(item)
            except asyncio.QueueFull:
                # A consumer that falls behind loses the newest packets, counted, never memory.
                self.counters.receive_overflows += 1
        self._wake_arrival_waiters()

    def _wake_arrival_waiters(self) -> None:
        waiters, self._arrival_waiters = self._arrival_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def receive(self) -> tuple[bytes, Any]:
        """Next good packet as (raw octets, validated value)."""
        if self._closed and self._received.empty():
            raise LinkClosedError(self.port)
        return await self._received.get()

    def receive_nowait(self) -> tuple[bytes, Any] | None:
        try:
            return self._received.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def handle_packets(self, handler: Callable[[bytes, Any], None] | None) -> None:
        """Hand each good packet to ``handler`` as it is read, in the reader's callback, instead of
        queueing it for :meth:`receive` (None: queue again). For a server that answers every request
        at once (the plant's device bus): the answer leaves in the pass of the loop that read the
        request. The handler must not raise."""
        self._handler = handler

    @property
    def closed(self) -> bool:
        return self._closed

    def arrival(self) -> asyncio.Future[None]:
        """A future done when a packet is waiting (at once if one is), or the link is lost or closed:
        for a caller that polls with :meth:`receive_nowait` and waits with a timeout of its own, without
        a task per wait (the device bus waits like this on every exchange)."""
        assert self._loop is not None, "the link is not open"
        waiter: asyncio.Future[None] = self._loop.create_future()
        if not self._received.empty() or self._closed or not self._connected.is_set():
            waiter.set_result(None)
        else:
            self._arrival_waiters.append(waiter)
        return waiter

    # --- sending ---------------------------------------------------------------------------
    def send(self, packet: bytes, *, now: bool = False) -> None:
        """Queue one packet for transmission (framed); returns at once. The packets sent in one pass
        of the event loop leave in one write, at the end of the pass: a burst of housekeeping then
        wakes the far end once rather than once a packet. ``now``: write it (and whatever is queued
        before it) at once, for a request and its reply, where the far end waits for this packet
        alone and a pass of the loop is latency on every exchange."""
        if self._closed:
            raise LinkClosedError(self.port)
        framed = frame(packet)
        if len(self._pending_out) + len(framed) > self.max_backlog_octets:
            self._shed(len(framed))
        self._pending_out += framed
        self.counters.packets_out += 1
        if now and self._connected.is_set():
            self._flush()
            return
        if not self._connected.is_set() or self._flush_scheduled:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            self._flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self._scheduled_flush)

    @property
    def backlog_octets(self) -> int:
        """Octets queued for the device and not yet taken by it."""
        return len(self._pending_out)

    def _shed(self, incoming: int) -> None:
        """Drop the oldest whole frames not yet begun until ``incoming`` more octets fit. The rest of a
        frame partly written stays, so that the far end never sees half a frame glued to another."""
        pending = self._pending_out
        # Every frame is 0x00, COBS data (never 0x00, never empty), 0x00.
        if not pending:
            return
        if pending[0] != 0:
            start = pending.find(0) + 1  # the rest of a frame partly written, through its end
        elif len(pending) == 1 or pending[1] == 0:
            start = 1  # a frame written but for its closing delimiter
        else:
            start = 0
        excess = len(pending) + incoming - self.max_backlog_octets
        end = start
        dropped = 0
        while end - start < excess and end < len(pending):
            close = pending.find(0, end + 1)
            end = len(pending) if close < 0 else close + 1
            dropped += 1
        del pending[start:end]
        self.counters.output_dropped += dropped

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        if self._connected.is_set() and not self._closed:
            self._flush()

    def _flush(self) -> None:
        port = self._serial
        if (port is None and self._fd is None) or not self._pending_out:
            return
        if self._fd is None:
            self._write_queue.put(bytes(self._pending_out))
            self.counters.octets_out += len(self._pending_out)
            self._pending_out.clear()
            return
        try:
            written = os.write(self._fd, self._pending_out)
        except BlockingIOError:
            written = 0
        except serial.SerialTimeoutException:
            written = 0
        except (OSError, serial.SerialException) as error:
            if getattr(error, "errno", None) == errno.EAGAIN:
                written = 0
            else:
                self.counters.write_errors += 1
                self._lost(f"write failed: {error}")
                return
        self.counters.octets_out += written
        del self._pending_out[:written]
        if self._pending_out and self._fd is not None and self._loop is not None:
            self._loop.add_writer(self._fd, self._on_writable)

    def _writer_loop(self, port: serial.SerialBase, chunks: queue.SimpleQueue[bytes | None]) -> None:
        loop = self._loop
        assert loop is not None
        while (chunk := chunks.get()) is not None:
            try:
                port.write(chunk)
            except (serial.SerialException, OSError, TypeError, AttributeError) as error:
                if not self._thread_stop.is_set():
                    loop.call_soon_threadsafe(self._lost, f"write failed: {error}")
                return

    def _on_writable(self) -> None:
        if self._fd is not None and self._loop is not None:
            self._loop.remove_writer(self._fd)
        self._flush()

    def discard_output(self) -> None:
        """Forget what is queued and not yet written (requests that must not reach a peer that comes back)."""
        self._pending_out.clear()

    async def drain(self) -> None:
        """Wait until every queued octet has been handed to the device."""
        while self._pending_out and not self._closed:
            await asyncio.sleep(0.001)

    # --- connection loss and reconnection --------------------------------------------------
    def _release_port(self) -> None:
        if self._fd is not None and self._loop is not None:
            self._loop.remove_reader(self._fd)
            self._loop.remove_writer(self._fd)
        self._fd = None
        self._thread_stop.set()
        self._write_queue.put(None)
        if self._serial is not None:
            with contextlib.suppress(Exception):
                self._serial.close()
        self._serial = None
        self._connected.clear()
        self._wake_arrival_waiters()

    def _lost(self, reason: str) -> None:
        if not self._connected.is_set() or self._closed:
            return
        self._release_port()
        self.counters.disconnects += 1
        # Frames cut in half by the loss must not glue onto the first frame after reconnection.
        self.deframer.feed(b"\x00")
        self._on_state("disconnected", f"{self.port}: {reason}")
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._reconnect_task is None or self._reconnect_task.done():
            assert self._loop is not None
            self._reconnect_task = self._loop.create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while not self._closed and not self._connected.is_set():
            await asyncio.sleep(self.reconnect_interval)
            try:
                self._open_port()
            except (serial.SerialException, OSError):
                continue
            self.counters.reconnects += 1
            self._on_state("reconnected", self.port)

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def close(self) -> None:
        if self._connected.is_set() and self._pending_out:
            with contextlib.suppress(Exception):
                self._flush()  # what was sent in this pass still leaves, as it did when sent
        self._closed = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        self._release_port()
