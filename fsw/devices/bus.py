"""The device bus: flight software and a plant in another process, over a serial link.

Once per flight cycle the flight side sends one step request (TC APID 300, service 130,1) and
the plant answers with one reply (TM APID 301, service 130,2), both CBOR:

- request ``{"n": exchange number, "dt": seconds to advance, "calls": [[device, method, args]...],
  "poll": [[device, method]...] (only when it changed: the plant keeps the last one),
  "requests": [[device, method]...]}``;
- reply ``{"n": ..., "readings": [value, ...] (in poll order), "results": [[device, method, value]...],
  "errors": [text...]}``, a reading being ``{type name: [field values...]}``;
- a request may ask the plant to fly ``ahead`` cycles more (``step_dt`` each) that no command will
  come in: its reply then says ``"ahead": k`` and k packets follow (TM 130,3), ``{"n": ..., "i": 1..k,
  "readings": [...], "errors": [...]}``, each sent as soon as the plant has flown that cycle.

The plant applies the actuator calls, advances by ``dt``, then reads every polled method: so a
reading is always of the plant state at the start of the flight cycle that uses it. ``requests``
are slow acquisitions (a hazard scan) whose result the flight side receives on the next cycle.
The plant advances only when the flight side steps it, and the flight clock holds still while it
waits for the reply: a seeded run is deterministic. Pipelined (a controller in flight), the request for
the next cycle leaves as soon as this cycle's readings are in, and its reply is taken at the next
cycle: the plant steps while the flight software computes, and a cycle's commands reach the plant at
the start of the next cycle (:meth:`DeviceBusClient.exchange`).

On the flight side each device is a :class:`RemoteDevice` that satisfies the same ``typing.Protocol``
as the emulator or Pi backend: read methods return the reading of this cycle, request methods
return None until their result has come back, and every other method is an actuator call queued
for the next exchange.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from fsw.clock import ring_after_wall
from fsw.core.errors import NotAvailable
from fsw.devices import descent, surface
from fsw.devices.codec import READING_CLASSES, travelling_cbor
from fsw.devices.codec import canonical_cbor as canonical_cbor  # (re-exported: callers found them here)
from fsw.devices.codec import decode as decode
from fsw.devices.codec import encode as encode
from fsw.devices.codec import register_readings as register_readings
from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.errors import PacketError
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm, SequenceCounters

FLIGHT_APID = 300
PLANT_APID = 301
SERVICE = 130  # a private PUS service of its own (128 is file delivery)
STEP_REQUEST = 1
STEP_REPLY = 2
STEP_LATER = 3  # one cycle flown ahead, sent as the plant has flown it
# Wall seconds per attempt: a loaded host may hold a plant's answer up for a second, never for this long.
REPLY_TIMEOUT_S = 2.0
REPLY_RETRIES = 2  # re-sends after a timeout before the bus is declared dead
LINK_CHECK_S = 0.25  # while waiting, how often to look whether the link is still there (wall seconds)
# An elevation image (8 KiB) is larger than a ground packet may be: the device bus allows the largest packet
# the primary header can describe.
MAX_PACKET_SIZE = 0xFFFF + 7




class HoldingClock(Protocol):
    """The flight clock as the bus needs it: virtual time stands still while the plant answers."""

    def monotonic(self) -> float: ...
    def hold(self) -> AbstractContextManager[None]: ...


class DeviceBusError(RuntimeError):
    pass


class ReadingNotAvailable(DeviceBusError, NotAvailable):
    """A device that has not been read yet (not polled in this phase)."""


# Why the bus is dead (DeviceBusDead.reason).
TIMEOUT = "timeout"  # the plant stopped answering: every retry timed out
LINK_LOST = "link_lost"  # the port went away (the plant's end closed, a cable pulled)
NO_LINK = "no_link"  # the port was never opened (missing at boot)
DEAD_REASONS = (TIMEOUT, LINK_LOST, NO_LINK)


class DeviceBusDead(DeviceBusError):
    """No answer from the plant: ``reason`` is one of :data:`DEAD_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class RemoteDevice:
    """A device on the other end of the bus, shaped by the Protocol it stands in for."""

    def __init__(self, bus: DeviceBusClient, name: str, read_methods: Iterable[str],
                 request_methods: Iterable[str] = ()) -> None:
        self._bus = bus
        self._name = name
        self._read_methods = frozenset(read_methods)
        self._request_methods = frozenset(request_methods)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)
        bus, name = self._bus, self._name
        port: Callable[..., Any]
        if method in self._read_methods:
            port = bus.reading_port(name, method)
        elif method in self._request_methods:
            port = lambda: bus.request(name, method)  # noqa: E731
        else:
            port = lambda *args: bus.call(name, method, args)  # noqa: E731
        # Kept on the instance: the next call finds it there and never comes back here (the flight
        # side calls a dozen of these every cycle).
        setattr(self, method, port)
        return port


_NO_REPLY = object()


@dataclass(slots=True)
class _Posted:
    """A step request on its way: what it carried, and what its reply will be."""

    token: Any  # what _collect needs to take the reply
    number: int
    poll: list[tuple[str, str]]
    calls: list[list[Any]]
    requests: dict[tuple[str, str], None]
    reading_time: float  # the flight time its readings are of
    step_dt: float


class DeviceBusClient:
    """Flight side: queues actuator calls, exchanges once per cycle, serves readings from the reply."""

    def __init__(self, link: SerialLink | None, clock: HoldingClock, *, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 retries: int = REPLY_RETRIES) -> None:
        self.link = link
        self.clock = clock
        self.reply_timeout_s = reply_timeout_s
        self.retries = retries
        self.retries_sent = 0  # requests sent again after a timeout
        self.timeouts = 0  # attempts that got no reply in time
        self.stale_replies = 0  # replies to an earlier request (a repeat's second answer), dropped
        self._opened = False
        self.dead: str | None = None  # why the last request got no answer (None: it did)
        self.sequence = SequenceCounters()
        self._calls: list[list[Any]] = []
        self._poll: dict[tuple[str, str], None] = {}
        self._read_keys: dict[str, list[tuple[str, str]]] = {}  # each device's readings, as made
        self._poll_sent: list[tuple[str, str]] | None = None
        self._requests: dict[tuple[str, str], None] = {}
        self._readings: dict[tuple[str, str], Any] = {}
        # Readings as they travelled, decoded when first read: a cycle reads its gyros and star tracker,
        # the rest of the dozen polled readings only every fifth cycle or for housekeeping.
        self._undecoded: dict[tuple[str, str], Any] = {}
        self._results: dict[tuple[str, str], Any] = {}
        self._last_exchange: float | None = None
        self._later: list[list[Any]] = []  # readings of cycles the plant has already flown, in order
        self._later_keys: list[tuple[str, str]] = []
        self._later_dt = 0.0
        self._later_due = 0  # cycles the plant is flying ahead whose readings are still on their way
        self._later_token: Any = None  # the request they answer (what _collect needs to send it again)
        self._later_next = 0  # the index of the next one
        self.exchanges = 0
        self.round_trips = 0
        self.requests_made = 0  # step requests numbered as they are made; their commands go with them
        self.requests_answered = 0  # the number of the last request whose reply was taken
        self._posted: _Posted | None = None  # the request for the next cycle, sent ahead (pipelined)
        self.errors: list[str] = []

    def device(self, name: str, read_methods: Iterable[str] = ("read",),
               request_methods: Iterable[str] = ()) -> RemoteDevice:
        keys = self._read_keys.setdefault(name, [])
        for method in read_methods:
            self._poll[(name, method)] = None
            keys.append((name, method))
        return RemoteDevice(self, name, read_methods, request_methods)

    def reading(self, name: str, method: str) -> Any:
        """This cycle's reading of ``name.method``. Raises :class:`ReadingNotAvailable` before the first,
        and what :func:`decode` raises for a reading the plant sent malformed."""
        return self.reading_port(name, method)()

    def reading_port(self, name: str, method: str) -> Callable[[], Any]:
        """``reading(name, method)`` as a function of nothing: a remote device's read method, called
        a dozen times a cycle."""
        readings, undecoded, key = self._readings, self._undecoded, (name, method)

        def read() -> Any:
            if key in undecoded:
                readings[key] = decode(undecoded.pop(key))
            try:
                return readings[key]
            except KeyError as error:
                raise ReadingNotAvailable(f"no reading of {name}.{method} yet") from error

        return read

    def request(self, name: str, method: str) -> Any:
        result = self._results.pop((name, method), None)
        if result is None:
            self._requests[(name, method)] = None
        return result

    def call(self, name: str, method: str, args: tuple[Any, ...]) -> None:
        self._calls.append([name, method, encode(args)])

    def stop_polling(self, names: Iterable[str]) -> None:
        """Stop reading these devices every cycle (their phase is over)."""
        dropped = set(names)
        self._poll = {key: None for key in self._poll if key[0] not in dropped}

    def start_polling(self, names: Iterable[str]) -> None:
        """Read these devices every cycle again (a phase that needs them is coming); their last
        readings stand until the next exchange brings new ones."""
        for name in names:
            for key in self._read_keys.get(name, ()):
                self._poll[key] = None

    async def open(self) -> None:
        """Open the link to the plant, once. A port that is not there yet is retried in the
        background (the link's own reconnection): the flight software starts without its plant."""
        if self.link is None or self._opened:
            return
        self._opened = True
        await self.link.open_with_retry()

    async def close(self) -> None:
        if self.link is not None and self._opened:
            await self.link.close()

    @property
    def connected(self) -> bool:
        """The link to the plant is open (a local bus always is)."""
        return self.link is None or self.link.connected

    def _post(self, subtype: int, body: Any) -> Any:
        """Send one request; returns what :meth:`_collect` needs to take its reply. Raises
        :class:`DeviceBusDead` when the link is not there."""
        if self.link is None:
            raise DeviceBusDead(NO_LINK, "no link to the plant")
        link = self.link
        if not link.connected:
            reason = LINK_LOST if link.counters.disconnects else NO_LINK  # lost once, or never there
            raise DeviceBusDead(reason, f"{link.port}: link to the plant is down")
        tc = PusTc(FLIGHT_APID, SERVICE, subtype, travelling_cbor(body), self.sequence.next(FLIGHT_APID), ACK_ALL)
        packet = tc.pack(MAX_PACKET_SIZE)
        link.send(packet, now=True)  # the plant waits for this packet alone
        return tc.seq_count, packet

    async def _collect(self, posted: Any, reply_subtype: int, retries: int | None = None,
                       index: int | None = None) -> Any:
        """The reply to a request :meth:`_post` sent (``index``: the one of its cycles flown ahead),
        the request sent again up to ``retries`` times after a timeout (the same packet: the plant
        answers a repeat with the replies it gave, it never applies a request twice). Raises
        :class:`DeviceBusDead` with the reason when no reply comes or the link is gone. The flight
        clock stands still meanwhile."""
        seq_count, packet = posted
        link = self.link
        assert link is not None  # _post refused to send without one
        timeout = self.reply_timeout_s
        attempts = 1 + max(0, self.retries if retries is None else retries)
        with self.clock.hold():
            for attempt in range(attempts):
                if attempt:
                    self.retries_sent += 1
                    link.send(packet, now=True)
                reply = await self._await_reply(link, seq_count, reply_subtype, timeout, index)
                if reply is not _NO_REPLY:
                    return reply
                self.timeouts += 1
        raise DeviceBusDead(TIMEOUT, f"plant did not answer request {seq_count} in {attempts} x {timeout:g} s")

    async def _await_reply(self, link: SerialLink, seq_count: int, reply_subtype: int, timeout_s: float,
                           index: int | None = None) -> Any:
        """The reply to request ``seq_count`` (``index``: its cycle flown ahead of that index) within
        ``timeout_s`` of wall time, or ``_NO_REPLY``. Replies to earlier requests (a repeat answered
        twice, a late answer) are dropped."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not link.connected:
                link.discard_output()  # a request left queued must not reach a plant that comes back
                raise DeviceBusDead(LINK_LOST, f"{link.port}: link to the plant lost")
            received = link.receive_nowait()
            if received is None:
                if link.closed:
                    raise DeviceBusDead(LINK_LOST, f"{link.port}: link closed")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return _NO_REPLY
                arrival = link.arrival()
                if not arrival.done():
                    ring_after_wall(arrival, min(remaining, LINK_CHECK_S))
                    await arrival
                continue
            raw, _ = received
            try:
                tm = PusTm.unpack(raw, MAX_PACKET_SIZE)
            except PacketError:
                continue
            if (tm.apid, tm.service, tm.subtype, tm.msg_counter) == (PLANT_APID, SERVICE, reply_subtype, seq_count):
                reply = appdata.decode(tm.source_data)
                if index is None or (isinstance(reply, dict) and reply.get("i") == index):
                    return reply
            self.stale_replies += 1

    async def exchange(self, ahead: int = 0, step_dt: float = 0.0, retries: int | None = None,
                       pipeline: bool = False) -> None:
        """One cycle: this cycle's readings in hand, the queued commands on their way.

        Lock-step (the default): the request carrying the commands queued so far goes out now and the
        plant flies up to now. ``pipeline``: once this cycle's readings are in, the request for the
        next cycle (``step_dt`` on) goes out at once with the commands queued so far, and its reply is
        taken at the next exchange, so the plant flies the next cycle while the flight software
        computes this one: a command then reaches the plant at the start of the next cycle, as outputs
        go out at the next minor frame on a scheduled bus. ``ahead``: the next cycles (each
        ``step_dt`` long) will send no command, so the plant may fly them now and return their
        readings too; they are served one per cycle, and the commands made meanwhile go out with the
        next request."""
        now = self.clock.monotonic()
        posted, self._posted = self._posted, None
        if posted is not None:
            await self._take(posted, retries)
            if now <= posted.reading_time + 0.5 * posted.step_dt and (pipeline or not (self._calls or self._requests)):
                self._post_next(ahead, step_dt, pipeline)  # on time (or between two cycles)
                return
            # Late (a pause, an overrun), or commands that must go now: a round trip to now.
            self._drop_later()
        if (self._later or self._later_due) and self._last_exchange is not None \
                and now - self._last_exchange > 1.5 * self._later_dt:
            self._drop_later()  # the flight paused (dormant): those cycles' readings are stale
        if self._later or self._later_due:
            if not self._later:
                await self._take_later(retries)
            self._apply_readings(self._later_keys, self._later.pop(0))
            self._last_exchange = now
            self.exchanges += 1
            self._post_next(ahead, step_dt, pipeline)
            return
        dt = 0.0 if self._last_exchange is None else max(0.0, now - self._last_exchange)
        self._last_exchange = now
        request, outgoing = self._request(dt, ahead, step_dt, now)
        try:
            outgoing.token = self._post(STEP_REQUEST, request)
            reply = await self._collect(outgoing.token, STEP_REPLY, retries)
        except DeviceBusDead as error:
            self._put_back(outgoing, error)
            raise
        self._take_reply(reply, outgoing)
        self._post_next(ahead, step_dt, pipeline)

    def _request(self, dt: float, ahead: int, step_dt: float, reading_time: float) -> tuple[dict[str, Any], _Posted]:
        """The next step request, with the commands and requests queued so far (taken off the queue)."""
        poll = list(self._poll)
        request: dict[str, Any] = {"n": self.exchanges, "dt": dt, "calls": self._calls,
                                   "requests": [list(key) for key in self._requests]}
        if poll != self._poll_sent:
            request["poll"] = [list(key) for key in poll]
            self._poll_sent = poll
        if ahead > 0 and step_dt > 0:
            request["ahead"], request["step_dt"] = ahead, step_dt
        self.requests_made += 1
        outgoing = _Posted(None, self.requests_made, poll, self._calls, self._requests, reading_time, step_dt)
        self._calls = []
        self._requests = {}
        return request, outgoing

    def _post_next(self, ahead: int, step_dt: float, pipeline: bool) -> None:
        """Pipelined: send the request for the next cycle now (see :meth:`exchange`). A bus found dead
        here keeps the commands queued; the next exchange finds it dead and says so."""
        if not pipeline or self._later or self._later_due or step_dt <= 0:
            return
        now = self.clock.monotonic()
        last = now if self._last_exchange is None else self._last_exchange
        request, outgoing = self._request(now + step_dt - last, ahead, step_dt, now + step_dt)
        try:
            outgoing.token = self._post(STEP_REQUEST, request)
        except DeviceBusDead as error:
            self._put_back(outgoing, error)
            return
        self._posted = outgoing

    async def _take(self, posted: _Posted, retries: int | None) -> None:
        """The reply to a request sent ahead, into this cycle's readings."""
        try:
            reply = await self._collect(posted.token, STEP_REPLY, retries)
        except DeviceBusDead as error:
            self._put_back(posted, error)
            raise
        self._last_exchange = posted.reading_time
        self._take_reply(reply, posted)

    def _put_back(self, outgoing: _Posted, error: DeviceBusDead) -> None:
        """No answer: nothing was applied as far as we know. The commands go with the next request,
        and so does the poll list (a plant started again knows none)."""
        self.dead = error.reason
        self._calls = outgoing.calls + self._calls
        self._requests = {**outgoing.requests, **self._requests}
        self._poll_sent = None

    def _take_reply(self, reply: dict[str, Any], answered: _Posted) -> None:
        self.dead = None
        self.exchanges += 1
        self.round_trips += 1
        self.requests_answered = answered.number
        self._apply_readings(answered.poll, reply["readings"])
        later = reply.get("later")
        self._later, self._later_keys, self._later_dt = list(later or ()), answered.poll, answered.step_dt
        # Over a serial link the cycles flown ahead follow the reply, one packet each.
        self._later_due = 0 if later is not None else int(reply.get("ahead", 0))
        self._later_token, self._later_next = answered.token, 1
        for name, method, value in reply["results"]:
            if value is not None:
                self._results[(name, method)] = decode(value)
        self.errors += reply.get("errors", [])

    async def _take_later(self, retries: int | None) -> None:
        """The next cycle flown ahead, as the plant sends it after the reply. None coming (retries
        exhausted, the link gone): no cycle more is owed, and the bus is dead until an exchange
        answers again."""
        try:
            cycle = await self._collect(self._later_token, STEP_LATER, retries, index=self._later_next)
        except DeviceBusDead as error:
            self._drop_later()
            self.dead = error.reason
            raise
        self._later_due -= 1
        self._later_next += 1
        self._later.append(cycle["readings"])
        self.errors += cycle.get("errors", [])

    def _drop_later(self) -> None:
        self._later = []
        self._later_due = 0

    def _apply_readings(self, keys: list[tuple[str, str]], values: list[Any]) -> None:
        readings, undecoded = self._readings, self._undecoded
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            if type(value) in READING_CLASSES:  # handed over in process: the reading already
                readings[key] = value
                if undecoded:
                    undecoded.pop(key, None)
            else:
                undecoded[key] = value


register_readings(descent, surface)
