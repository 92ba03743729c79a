"""Decoding received packets by the dictionary, and the latest-value table with limit alarms.

Decoding is pure (raw octets in, a ``Received`` out), so live telemetry, the archive and replay all
share it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fsw.protocol import PacketError, PusTm, VerificationReport, decode_cbor
from fsw.protocol.verification import Subtype

from .dictionary import SEVERITIES, Dictionary, tai_as_utc

log = logging.getLogger("ground.telemetry")

STATE_RANK = {"ok": 0, "yellow": 1, "red": 2}


@dataclass
class Received:
    """One received packet: header fields, raw octets and what the dictionary makes of it."""

    rx_time: float  # Unix seconds at the ground
    raw: bytes
    kind: str  # hk | event | verification | event_log | parameters | ping | other | undecodable
    apid: int | None = None
    service: int | None = None
    subtype: int | None = None
    seq: int | None = None
    onboard_time: float | None = None  # TAI seconds since 1958 from the TM header
    decoded: dict[str, Any] = field(default_factory=dict)


_AS_THEY_ARE = frozenset({float, int, str, bool, type(None)})


def jsonable(value: Any) -> Any:
    """CBOR values as JSON-friendly values (octets become hex text)."""
    kind = type(value)
    # Housekeeping is maps and lists of plain numbers: those first, without a call per value.
    if kind in _AS_THEY_ARE:
        return value
    if kind is dict:
        return {key if type(key) is str else str(key): item if type(item) in _AS_THEY_ARE else jsonable(item)
                for key, item in value.items()}
    if kind is list or kind is tuple:
        return [item if type(item) in _AS_THEY_ARE else jsonable(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def decode_packet(raw: bytes, dictionary: Dictionary, rx_time: float, tm: PusTm | None = None) -> Received:
    if tm is None:
        try:
            tm = PusTm.unpack(raw)
        except PacketError as error:
            return Received(rx_time, raw, "undecodable", decoded={"error": f"{error.code.name}: {error.message}"})
    received = Received(rx_time, raw, "other", tm.apid, tm.service, tm.subtype, tm.seq_count, tm.time)
    try:
        _fill(received, tm, dictionary)
    except (PacketError, ValueError, TypeError, KeyError) as error:
        received.kind = "other"
        received.decoded = {"error": f"cannot decode {tm.service},{tm.subtype}: {error}", "data": tm.source_data.hex()}
    return received


def _fill(received: Received, tm: PusTm, dictionary: Dictionary) -> None:
    service, subtype = tm.service, tm.subtype
    if service == 3 and subtype == 25:
        sid, values = decode_cbor(tm.source_data)
        received.kind = "hk"
        received.decoded = {"sid": sid, "structure": dictionary.structure_name(sid), "values": jsonable(values)}
    elif service == 5 and 1 <= subtype <= 4:
        event_id, args = decode_cbor(tm.source_data)
        args = jsonable(args if isinstance(args, dict) else {"args": args})
        name, text = dictionary.event_text(event_id, args)
        received.kind = "event"
        received.decoded = {"id": event_id, "name": name, "severity": SEVERITIES[subtype - 1], "text": text,
                            "args": args}
    elif service == 5 and subtype == 130:
        entries = []
        for onboard, event_id, args in decode_cbor(tm.source_data):
            name, text = dictionary.event_text(event_id, args)
            # The log keeps ids, not report subtypes: the severity is the dictionary's.
            logged = dictionary.events.get(event_id)
            entries.append({"time": onboard, "id": event_id, "name": name, "text": text, "args": jsonable(args),
                            "severity": logged.severity if logged else "?"})
        received.kind = "event_log"
        received.decoded = {"entries": entries}
    elif service == 1:
        report = VerificationReport.unpack(subtype, tm.source_data)
        received.kind = "verification"
        received.decoded = {"stage": Subtype(subtype).name, "request_id": report.request_id,
                            "tc_seq": report.tc_seq_count, "ok": report.ok, "step": report.step,
                            "code": report.code, "reason": report.reason, "data": jsonable(report.data)}
    elif service == 20 and subtype == 2:
        values = {}
        for parameter_id, value in decode_cbor(tm.source_data):
            spec = dictionary.parameters.get(parameter_id)
            values[spec.name if spec else f"0x{parameter_id:04X}"] = jsonable(value)
        received.kind = "parameters"
        received.decoded = {"values": values}
    elif service == 17 and subtype == 2:
        received.kind = "ping"
    else:
        data: Any = tm.source_data.hex()
        if tm.source_data:
            with contextlib.suppress(PacketError, ValueError):
                data = jsonable(decode_cbor(tm.source_data))
        received.decoded = {"data": data}


def utc_text(unix_seconds: float) -> str:
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def onboard_utc_text(tai_seconds: float | None) -> str:
    """On-board TAI seconds since 1958 shown as UTC (the offset includes TAI-UTC = 37 s)."""
    if tai_seconds is None:
        return "-"
    return tai_as_utc(tai_seconds)


@dataclass(slots=True)
class Sample:
    value: Any
    rx_time: float
    onboard_time: float | None
    state: str


@dataclass
class Alarm:
    point: str
    state: str  # current limit state
    worst: str  # worst state since the alarm was raised
    value: Any
    since: float
    acknowledged: bool = False


class TelemetryState:
    """Latest value of every point, and limit alarms the operator acknowledges.

    An alarm is raised when a point leaves its limits, escalates (and needs a new acknowledgement)
    when it gets worse, and disappears once the point is back in limits *and* acknowledged.
    """

    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.latest: dict[str, Sample] = {}
        self.alarms: dict[str, Alarm] = {}
        self.reports_by_structure: dict[int, int] = {}
        self.listeners: list[Callable[[Received], None]] = []
        self.listener_errors = 0

    def take(self, received: Received) -> list[str]:
        """Apply one packet; returns the names of the points it updated."""
        updated: list[str] = []
        if received.kind == "hk":
            sid = received.decoded["sid"]
            self.reports_by_structure[sid] = self.reports_by_structure.get(sid, 0) + 1
            points, latest, alarms = self.dictionary.points, self.latest, self.alarms
            rx_time, onboard_time = received.rx_time, received.onboard_time
            for name, value in received.decoded["values"].items():
                spec = points.get(name)
                state = spec.limit_state(value) if spec else "ok"
                latest[name] = Sample(value, rx_time, onboard_time, state)
                if state != "ok" or name in alarms:  # (in limits with no alarm: nothing to judge)
                    self._judge(name, value, state, rx_time)
                updated.append(name)
        for listener in list(self.listeners):
            try:
                listener(received)
            except Exception:  # a display bug must not stop reception (and the archive)
                self.listener_errors += 1
                log.exception("telemetry listener failed")
        return updated

    def _judge(self, name: str, value: Any, state: str, now: float) -> None:
        alarm = self.alarms.get(name)
        if alarm is None:
            if state != "ok":
                self.alarms[name] = Alarm(name, state, state, value, now)
            return
        alarm.value = value
        if STATE_RANK[state] > STATE_RANK[alarm.worst]:
            alarm.worst = state
            alarm.acknowledged = False
        alarm.state = state
        if state == "ok" and alarm.acknowledged:
            del self.alarms[name]

    def acknowledge(self, point: str | None = None) -> list[str]:
        """Acknowledge one alarm (or all); returns the points acknowledged."""
        names = [point] if point is not None else list(self.alarms)
        done = []
        for name in names:
            alarm = self.alarms.get(name)
            if alarm is None:
                continue
            alarm.acknowledged = True
            done.append(name)
            if alarm.state == "ok":
                del self.alarms[name]
        return done

    def unacknowledged(self) -> list[Alarm]:
        return [alarm for alarm in self.alarms.values() if not alarm.acknowledged]

    def value(self, point: str) -> Any:
        sample = self.latest.get(point)
        return None if sample is None else sample.value
