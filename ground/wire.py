"""The ground server's wire protocol (version 1): JSON objects, one per line, over a Unix or TCP
socket. ``docs/ground-server.md`` is the reference; this module encodes and decodes the messages
both ends share (packets, command history entries, alarms, link status).

Octet strings inside a message are written ``{"$bytes": "<hex>"}``; everything else is plain JSON.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsw.protocol import PusTc, VerificationReport
from fsw.protocol.verification import Subtype

from .client import CommandRecord
from .dictionary import CommandSpec, Dictionary
from .history import CommandEntry
from .session import LinkStatus
from .telemetry import Alarm, Received, jsonable

PROTOCOL_VERSION = 1
# A welcome carries the dictionary (about 100 kB today): lines up to this size are accepted.
MAX_LINE = 16 * 1024 * 1024
SERVER_ENV = "ILRS_GROUND_SERVER"


class WireError(ValueError):
    """A message that is not a JSON object of a known shape."""


# --- framing ---------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            return bytes.fromhex(value["$bytes"])
        return {key: _restore(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore(item) for item in value]
    return value


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(_plain(message), separators=(",", ":"), allow_nan=False).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as error:
        raise WireError(f"not JSON: {error}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise WireError("a message is a JSON object with a string 'type'")
    restored: dict[str, Any] = _restore(message)
    return restored


def dictionary_digest(dictionary: Dictionary) -> str:
    return hashlib.sha256(json.dumps(dictionary.raw, sort_keys=True).encode()).hexdigest()[:16]


# --- addresses -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Address:
    """``/path/to.sock`` (Unix socket) or ``tcp://host:port``."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Address:
        if text.startswith("tcp://"):
            host, _, port = text[len("tcp://"):].rpartition(":")
            if not host or not port.isdigit():
                raise WireError(f"{text}: a TCP address is tcp://HOST:PORT")
            return cls(host=host.strip("[]"), port=int(port))
        if "://" in text:
            raise WireError(f"{text}: an address is a socket path or tcp://HOST:PORT")
        return cls(path=text)

    def __str__(self) -> str:
        return self.path if self.path is not None else f"tcp://{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.path is not None:
            return await asyncio.open_unix_connection(self.path, limit=MAX_LINE)
        return await asyncio.open_connection(self.host, self.port, limit=MAX_LINE)


def default_socket() -> Path:
    """Where ``serve`` listens and the tools look when given neither ``--port`` nor ``--server``."""
    from .portlock import runtime_directory

    return runtime_directory() / "server.sock"


def server_from_environment() -> str | None:
    return os.environ.get(SERVER_ENV) or None


# --- packets ---------------------------------------------------------------------------------
def packet_message(vehicle: str, received: Received, replayed: bool = False) -> dict[str, Any]:
    return {"type": "packet", "vehicle": vehicle, "replayed": replayed, "rx_time": received.rx_time,
            "kind": received.kind, "apid": received.apid, "service": received.service, "subtype": received.subtype,
            "seq": received.seq, "onboard_time": received.onboard_time, "decoded": received.decoded,
            "raw": received.raw.hex()}


def received_from(message: dict[str, Any]) -> Received:
    try:
        return Received(float(message["rx_time"]), bytes.fromhex(message["raw"]), str(message["kind"]),
                        message.get("apid"), message.get("service"), message.get("subtype"), message.get("seq"),
                        message.get("onboard_time"), message.get("decoded") or {})
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"bad packet message: {error}") from None


# --- command history -------------------------------------------------------------------------
def _report(report: VerificationReport) -> dict[str, Any]:
    return {"stage": report.subtype.name, "request_id": report.request_id, "step": report.step,
            "code": report.code, "data": jsonable(report.data)}


def _report_from(data: dict[str, Any]) -> VerificationReport:
    return VerificationReport(Subtype[data["stage"]], int(data["request_id"]), data.get("step"), data.get("code"),
                              data.get("data"))


def _record(record: CommandRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    tc = record.tc
    return {"apid": tc.apid, "service": tc.service, "subtype": tc.subtype, "seq": tc.seq_count,
            "request_id": record.request_id, "transmissions": record.transmissions,
            "stages": [_report(stage) for stage in record.stages]}


def entry_message(vehicle: str, entry: CommandEntry, now: float, tag: Any = None) -> dict[str, Any]:
    """``now`` is the loop time of the sender of this message (ages travel, clocks do not)."""
    message: dict[str, Any] = {
        "type": "entry", "vehicle": vehicle,
        "entry": {"number": entry.number, "name": entry.spec.name, "args": entry.args, "label": entry.label,
                  "text": entry.text, "critical": entry.spec.critical, "origin": entry.origin,
                  "timeout": entry.timeout, "runs_for": entry.runs_for, "age": now - entry.started_at,
                  "local_failure": entry.local_failure, "verdict": entry.verdict, "status": entry.status_at(now),
                  "done": entry.finished.is_set(), "ok": entry.ok, "arm": _record(entry.arm),
                  "fire": _record(entry.fire)}}
    if tag is not None:
        message["tag"] = tag
    return message


def _mirror_record(record: CommandRecord | None, data: dict[str, Any] | None, now: float) -> CommandRecord | None:
    if data is None:
        return record
    if record is None:
        # The header of the TC the server sent (its application data stays there).
        tc = PusTc(int(data["apid"]), int(data["service"]), int(data["subtype"]), b"", int(data["seq"]))
        record = CommandRecord(tc, now)
    record.transmissions = int(data.get("transmissions", 1))
    for stage in data["stages"][len(record.stages):]:
        record.add_stage(_report_from(stage))
    return record


def mirror_entry(existing: CommandEntry | None, data: dict[str, Any], dictionary: Dictionary,
                 now: float) -> CommandEntry:
    """Create or update this side's copy of a server's history entry."""
    try:
        entry = existing
        if entry is None:
            spec = dictionary.commands.get(data["name"]) or CommandSpec(str(data["name"]), -1)
            entry = CommandEntry(spec, list(data.get("args") or []), float(data["timeout"]),
                                 now - float(data["age"]), runs_for=float(data.get("runs_for", 0.0)),
                                 number=int(data["number"]), origin=str(data.get("origin", "")),
                                 text=str(data.get("text") or ""))
        entry.arm = _mirror_record(entry.arm, data.get("arm"), now)
        entry.fire = _mirror_record(entry.fire, data.get("fire"), now)
        entry.local_failure = str(data.get("local_failure") or "")
        entry.verdict = str(data.get("verdict") or "")
        if data.get("done"):
            entry.finished.set()
        return entry
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"bad entry message: {error}") from None


# --- alarms and links ------------------------------------------------------------------------
def alarms_message(vehicle: str, alarms: list[Alarm]) -> dict[str, Any]:
    return {"type": "alarms", "vehicle": vehicle,
            "alarms": [{"point": a.point, "state": a.state, "worst": a.worst,
                        "value": a.value, "since": a.since, "acknowledged": a.acknowledged} for a in alarms]}


def alarms_from(message: dict[str, Any]) -> dict[str, Alarm]:
    try:
        return {item["point"]: Alarm(item["point"], item["state"], item["worst"], item.get("value"),
                                     float(item["since"]), bool(item["acknowledged"]))
                for item in message["alarms"]}
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"bad alarms message: {error}") from None


def link_message(link: LinkStatus) -> dict[str, Any]:
    return {"type": "link", "vehicle": link.vehicle, "port": link.port, "state": link.state, "detail": link.detail,
            "last_rx": link.last_rx, "packets": link.packets, "link_delay": link.link_delay}


def link_from(message: dict[str, Any]) -> LinkStatus:
    try:
        return LinkStatus(str(message["vehicle"]), str(message["port"]), str(message["state"]),
                          str(message.get("detail", "")), message.get("last_rx"), int(message.get("packets", 0)),
                          float(message.get("link_delay", 0.0)))
    except (KeyError, TypeError, ValueError) as error:
        raise WireError(f"bad link message: {error}") from None
