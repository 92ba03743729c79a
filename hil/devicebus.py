"""The plant's side of the device bus (see :mod:`fsw.devices.bus` for the exchange): a sans-IO server
that answers step requests against the emulated devices, the loop that serves it on a serial link,
and an in-process bus that hands requests straight to a server through the same encoding."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from fsw.devices.bus import (
    FLIGHT_APID,
    MAX_PACKET_SIZE,
    PLANT_APID,
    SERVICE,
    STEP_LATER,
    STEP_REPLY,
    STEP_REQUEST,
    DeviceBusClient,
    HoldingClock,
)
from fsw.devices.codec import carry, decode, encode, travelling_cbor
from fsw.link import SerialLink
from fsw.protocol import appdata
from fsw.protocol.errors import PacketError
from fsw.protocol.packet import PusTc, PusTm, SequenceCounters

APPLIED_RECORD = 1000  # actuator calls the plant remembers, newest last


class DeviceBusServer:
    """Sans-IO plant side: turns a request into a reply against real (emulated) devices."""

    def __init__(self, devices: dict[str, Any], advance: Callable[[float], None], reset_outage_s: float = 0.0,
                 stream_ahead: bool = True) -> None:
        self.devices = devices
        self.advance = advance
        # The hardware runs on while the flight computer reboots: a client whose exchange count
        # starts again from 0 has restarted, and the plant first advances this long, actuators as
        # last commanded (the engine keeps burning).
        self.reset_outage_s = reset_outage_s
        self.flight_restarts = 0
        # Each cycle flown ahead in a packet of its own, sent as flown; False: all of them in the reply
        # (``later``), sent when the last is flown (what ``make bench`` compares against).
        self.stream_ahead = stream_ahead
        self.exchanges = 0
        self.repeats = 0  # requests the flight side sent again (its retry): answered from the last reply
        self.poll: list[list[str]] = []
        # The plant's record of the actuator calls that reached it: (exchange, device, method, args).
        self.applied: deque[tuple[int, str, str, tuple[Any, ...]]] = deque(maxlen=APPLIED_RECORD)
        self._last: tuple[int, int, bytes, list[PusTm]] | None = None  # (subtype, seq count, request, replies)
        self._last_readings: list[Any] | None = None  # of the last step, in poll order

    def step(self, request: dict[str, Any], in_process: bool = False) -> dict[str, Any]:
        """Apply one step request; the whole reply, the readings of the cycles flown ahead under
        ``later``, its values in their travelling form, or (``in_process``, for a client in this
        process) as :func:`fsw.devices.codec.carry` hands them over."""
        replies = self.stepping(request, in_process)
        reply = next(replies)
        later = []
        for cycle in replies:
            later.append(cycle["readings"])
            reply["errors"] += cycle["errors"]
        if later:
            reply["later"] = later
        return reply

    def stepping(self, request: dict[str, Any], in_process: bool = False) -> Iterator[dict[str, Any]]:
        """Apply one step request: its reply, then one message for each cycle flown ahead, each made
        as the plant has flown it (the plant flies those cycles only as they are drawn)."""
        errors: list[str] = []
        convert = carry if in_process else encode
        if request.get("n") == 0 and self.exchanges > 0:
            self.flight_restarts += 1
            if self.reset_outage_s > 0:
                self.advance(self.reset_outage_s)
        called: set[str] = set()
        for name, method, args in request.get("calls", []):
            called.add(name)
            try:
                values = decode(args)
                getattr(self.devices[name], method)(*values)
            except (KeyError, AttributeError, TypeError, ValueError) as error:
                errors.append(f"{name}.{method}: {error}")
            else:
                self.applied.append((self.exchanges, name, method, tuple(values)))
        dt = float(request.get("dt", 0.0))
        if dt > 0:
            self.advance(dt)
        self.exchanges += 1
        if "poll" in request:
            self.poll = request["poll"]
        if dt > 0 or "poll" in request or self._last_readings is None:
            readings = self._read_values(self.poll, errors, convert)
        else:
            # No time has passed since the last step: a device nothing commanded gives the reading
            # it gave (sensors sample once per plant instant). A second exchange at one flight time
            # (a ground command's, a cycle on resuming) must not draw fresh noise: the noise streams
            # then follow plant time, not how the exchanges of one instant happened to fall.
            fresh = self._read_values([key for key in self.poll if key[0] in called], errors, convert)
            readings = [fresh.pop(0) if key[0] in called else last
                        for key, last in zip(self.poll, self._last_readings, strict=True)]
        self._last_readings = readings
        wanted = request.get("requests")
        reply = {
            "n": request.get("n"),
            "readings": readings,
            "results": self._read(wanted, errors, convert) if wanted else [],
            "errors": errors,
        }
        # Cycles ahead with no new commands (until the flight's next guidance cycle): one request
        # flies them all, each cycle's readings as the flight would have had them in lock-step, each
        # on its way as soon as it is flown (the flight computes a cycle while the plant flies the next).
        ahead, step_dt = int(request.get("ahead", 0)), float(request.get("step_dt", 0.0))
        if ahead <= 0 or step_dt <= 0:
            yield reply
            return
        reply["ahead"] = ahead
        yield reply
        for index in range(1, ahead + 1):
            errors = []
            self.advance(step_dt)
            readings = self._read_values(self.poll, errors, convert)
            self._last_readings = readings
            yield {"n": request.get("n"), "i": index, "readings": readings, "errors": errors}

    def _read(self, wanted: Sequence[list[str]], errors: list[str],
              convert: Callable[[Any], Any] = encode) -> list[list[Any]]:
        """``[device, method, encoded value]`` of each wanted reading (None when it failed)."""
        return [[name, method, value]
                for (name, method), value in zip(wanted, self._read_values(wanted, errors, convert), strict=True)]

    def _read_values(self, wanted: Iterable[list[str]], errors: list[str],
                     convert: Callable[[Any], Any] = encode) -> list[Any]:
        """The encoded (``convert``-ed) value of each wanted reading, in order (None when it failed,
        with the error noted)."""
        devices = self.devices
        out: list[Any] = []
        keep = out.append
        for name, method in wanted:
            try:
                keep(convert(getattr(devices[name], method)()))
            except (KeyError, AttributeError, TypeError, ValueError) as error:
                errors.append(f"{name}.{method}: {error}")
                keep(None)
        return out

    def replies(self, tc: PusTc) -> Iterator[PusTm]:
        """The packets answering one request, each made as the plant gets there: the step's reply
        (130,2), then one packet for each cycle flown ahead (130,3). Draw them all: the plant flies
        a cycle ahead as its packet is drawn."""
        if tc.apid != FLIGHT_APID or tc.service != SERVICE:
            return
        last = self._last
        if last is not None and last[:3] == (tc.subtype, tc.seq_count, tc.app_data):
            # The flight side's retry of a request already applied (a reply late or lost): the same
            # replies again, never a second step.
            self.repeats += 1
            yield from last[3]
            return
        if tc.subtype != STEP_REQUEST:
            return
        request = appdata.decode(tc.app_data)  # undecodable: a PacketError, and nothing recorded as answered
        sent: list[PusTm] = []
        self._last = (tc.subtype, tc.seq_count, tc.app_data, sent)
        for reply in self.stepping(request) if self.stream_ahead else (self.step(request),):
            # Each reply's message counter echoes the request's sequence count, to pair them.
            tm = PusTm(PLANT_APID, SERVICE, STEP_LATER if "i" in reply else STEP_REPLY, travelling_cbor(reply),
                       msg_counter=tc.seq_count)
            sent.append(tm)
            yield tm


async def serve(link: SerialLink, server: DeviceBusServer) -> None:
    """Answer device bus requests on ``link`` until cancelled. Each request is answered in the
    link's reader callback, as it is read, each packet written as soon as it is made: the flight
    side's wait is one pass of the loop shorter, and it computes a cycle flown ahead while the plant
    flies the next."""
    sequence = SequenceCounters()

    def answer(raw: bytes, _: Any) -> None:
        try:
            for reply in server.replies(PusTc.unpack(raw, MAX_PACKET_SIZE)):
                reply.seq_count = sequence.next(PLANT_APID)
                link.send(reply.pack(MAX_PACKET_SIZE), now=True)  # the flight side waits for it alone
        except PacketError:
            return

    while (queued := link.receive_nowait()) is not None:  # what came before the server was ready
        answer(*queued)
    link.handle_packets(answer)
    try:
        await asyncio.get_running_loop().create_future()  # until cancelled
    finally:
        link.handle_packets(None)


class LocalDeviceBus(DeviceBusClient):
    """The same bus with the plant in this process: requests go straight to the server, no bytes
    between them, and the readings come back as :func:`fsw.devices.codec.carry` hands them over,
    equal to what the encoding would have delivered, so an in-process run and a two-process run see
    the same readings."""

    def __init__(self, server: DeviceBusServer, clock: HoldingClock) -> None:
        super().__init__(None, clock)
        self.server = server

    def _post(self, subtype: int, body: Any) -> Any:
        # The plant answers as the request reaches it, as the plant process does.
        return self.server.step(body, in_process=True)

    async def _collect(self, posted: Any, reply_subtype: int, retries: int | None = None,
                       index: int | None = None) -> Any:
        return posted
