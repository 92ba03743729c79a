"""The generated parts of docs/icd.md: worked packet examples in hex and the failure code table.

Everything here is produced by the real packet layer, so the document cannot drift from the code:
``python -m tests.fsw.protocol.icd_examples --write`` regenerates the marked sections in place, and
without ``--write`` it exits 1 when the document is stale (test_icd.py does the same check).
Generated sections sit between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from fsw.protocol import (
    ACK_ACCEPTANCE,
    ACK_COMPLETION,
    UNIX_TO_TAI_1958,
    FailureCode,
    PusTc,
    PusTm,
    VerificationReport,
    VerificationSubtype,
    encode_cbor,
    frame,
)

ICD_PATH = Path(__file__).resolve().parents[3] / "docs" / "icd.md"
APID = 100  # the flight executive's application process
# 2026-11-21T00:00:00.5 UTC as TAI seconds since 1958-01-01.
EXAMPLE_TIME = 1_795_219_200 + UNIX_TO_TAI_1958 + 0.5
PING_ACK = ACK_ACCEPTANCE | ACK_COMPLETION

# Where each failure code is raised, for the table in the document.
FAILURE_CODE_MEANINGS: dict[FailureCode, str] = {
    FailureCode.TOO_SHORT: "packet shorter than its headers (or a report shorter than its fields)",
    FailureCode.LENGTH_MISMATCH: "packet data length field disagrees with the octets received",
    FailureCode.BAD_VERSION: "CCSDS packet version is not 000",
    FailureCode.BAD_CRC: "packet error control (CRC-16) check failed",
    FailureCode.UNKNOWN_PUS_VERSION: "PUS version in the secondary header is not 2 (PUS-C)",
    FailureCode.OVERSIZE: "packet larger than the 4096-octet maximum",
    FailureCode.BAD_CBOR: "application data is not exactly one well-formed CBOR item",
    FailureCode.FIELD_RANGE: "a header field out of range: no secondary header, wrong type bit, CUC P-field",
    FailureCode.NOT_TELECOMMAND: "a telemetry packet arrived where a telecommand was expected",
    FailureCode.UNKNOWN_SERVICE: "no route for this service type",
    FailureCode.UNKNOWN_SUBTYPE: "service known, message subtype not",
    FailureCode.UNKNOWN_APID: "TC addressed to an APID this executive does not serve",
    FailureCode.UNKNOWN_COMMAND: "8,1 function (command) opcode not in the dictionary",
    FailureCode.BAD_ARGUMENT: "command arguments malformed (type, count, or unexpected data)",
    FailureCode.ARGUMENT_RANGE: "command argument outside its declared range",
    FailureCode.WRONG_MODE: "command not allowed in the current mode",
    FailureCode.BUSY: "too many commands already executing",
    FailureCode.EXECUTION_FAILED: "the command started but its execution failed",
    FailureCode.TIMEOUT: "the command did not complete in time",
    FailureCode.NOT_ARMED: "critical command sent without a live arm",
    FailureCode.ALREADY_FIRED: "one-shot action already performed",
    FailureCode.UNKNOWN_PARAMETER: "parameter id not in the dictionary",
    FailureCode.UNKNOWN_STRUCTURE: "housekeeping structure id not defined",
    FailureCode.UNKNOWN_EVENT: "event id not in the dictionary",
    FailureCode.SCHEDULE_FULL: "time-based schedule has no free slot",
    FailureCode.TIME_PASSED: "scheduled release time already passed",
    FailureCode.UNKNOWN_SCHEDULE_ID: "no scheduled activity with this id",
    FailureCode.WRONG_STATE: "the mission or a machine is not in the state this command is for",
    FailureCode.INTERRUPTED_BY_RESET: "the command was executing when the software was reset: outcome unknown",
    FailureCode.UNKNOWN_SPI: "security parameter index selects no security association",
    FailureCode.BAD_MAC: "message authentication code does not verify",
    FailureCode.REPLAYED_SEQUENCE: "anti-replay sequence number outside the window",
    FailureCode.MISSING_SECURITY_HEADER: "security header required but absent",
    FailureCode.UNKNOWN_DEFINITION: "no monitoring (PUS 12) or event-action (PUS 19) definition with this id",
    FailureCode.DEFINITION_EXISTS: "a definition with this id already exists",
    FailureCode.DEFINITION_ENABLED: "the definition is enabled: disable it first",
    FailureCode.DEFINITIONS_FULL: "no room for more definitions",
    FailureCode.UNKNOWN_POINT: "telemetry point not in the dictionary",
    FailureCode.DEVICE_UNAVAILABLE: "the device, or the device bus it sits on, does not answer or is not fitted",
    FailureCode.DEVICE_REFUSED: "the device refused the call (the plant's error in the failure data)",
    FailureCode.NO_DESCENT_STATE: "no usable descent uplink: state, target or map missing or stale, target off the map",
    FailureCode.PDI_WINDOW_CLOSED: "this revolution's powered-descent initiation is past, or too far ahead",
    FailureCode.NO_DESCENT_FRAME: "no uplinked descent frame (DESCENT_FRAME_SET) and gnc_descent_frame_required set",
}


def failure_code_table() -> str:
    lines = ["| code | hex | name | meaning |", "|---:|---|---|---|"]
    for code in FailureCode:
        meaning = FAILURE_CODE_MEANINGS.get(code, "")
        lines.append(f"| {int(code)} | `{int(code):04X}` | `{code.name}` | {meaning} |")
    return "\n".join(lines)


def hex_octets(data: bytes) -> str:
    return data.hex(" ").upper()


def _primary_meaning(raw: bytes) -> str:
    packet_id, seq_ctrl, length = (int.from_bytes(raw[i : i + 2], "big") for i in (0, 2, 4))
    kind = "TC" if packet_id & 0x1000 else "TM"
    return (
        f"version 0, type {kind}, secondary header 1, APID {packet_id & 0x7FF}; "
        f"sequence flags {seq_ctrl >> 14:02b}, count {seq_ctrl & 0x3FFF}; data length {length} "
        f"({length + 7}-octet packet)"
    )


def breakdown(raw: bytes) -> str:
    """A table of the packet's parts, each with its octets and what they say."""
    rows = [("primary header", raw[:6], _primary_meaning(raw))]
    if raw[0] & 0x10:
        tc = PusTc.unpack(raw)
        rows.append((
            "TC secondary header", raw[6:11],
            f"PUS version 2, ack flags {tc.ack_flags:04b}; service {tc.service}, subtype {tc.subtype}; "
            f"source id {tc.source_id}",
        ))
        data, data_name = tc.app_data, "application data"
    else:
        tm = PusTm.unpack(raw)
        rows.append((
            "TM secondary header", raw[6:13],
            f"PUS version 2, time reference status {tm.time_ref_status}; service {tm.service}, subtype {tm.subtype}; "
            f"message type counter {tm.msg_counter}; destination id {tm.dest_id}",
        ))
        rows.append((
            "time (CUC)", raw[13:20],
            f"P-field 0x1E; coarse {tm.time_coarse} s, fine {tm.time_fine}/65536 s (TAI since 1958)",
        ))
        data, data_name = tm.source_data, "source data"
        if tm.service == 1:
            report = VerificationReport.unpack(tm.subtype, data)
            meaning = f"request id {report.request_id:08X}"
            if report.step is not None:
                meaning += f"; step id {report.step}"
            if report.code is not None:
                meaning += f"; failure code {report.code} ({report.reason})"
                if isinstance(report.data, str):
                    meaning += f'; CBOR text "{report.data}"'
                elif report.data is not None:
                    meaning += f"; CBOR {report.data!r}"
            rows.append((data_name, data, meaning))
            data = b""
    if data:
        rows.append((data_name, data, f"{len(data)} octets"))
    rows.append(("packet error control", raw[-2:], f"CRC-16/CCITT-FALSE 0x{raw[-2:].hex().upper()}"))
    lines = ["| part | octets | meaning |", "|---|---|---|"]
    lines += [f"| {part} | `{hex_octets(octets)}` | {meaning} |" for part, octets, meaning in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class Example:
    title: str
    raw: bytes


def examples() -> list[Example]:
    ping = PusTc(APID, 17, 1, seq_count=1, ack_flags=PING_ACK)
    unknown = PusTc(APID, 99, 1, seq_count=2, ack_flags=PING_ACK)
    # TM counters as they would be for the first reports after a reset: the APID's sequence count
    # runs over all its TM, the message type counter per service and subtype.
    accepted = VerificationReport(VerificationSubtype.ACCEPTANCE_OK, ping.request_id).pack()
    completed = VerificationReport(VerificationSubtype.COMPLETION_OK, ping.request_id).pack()
    detail = "service 99,1"
    rejected = VerificationReport(
        VerificationSubtype.ACCEPTANCE_FAILED, unknown.request_id, code=FailureCode.UNKNOWN_SERVICE, data=detail
    ).pack()
    return [
        Example("17,1 are-you-alive TC to APID 100 (sequence count 1, ack flags 1001: acceptance and completion)",
                ping.pack()),
        Example("1,1 acceptance success report for it", PusTm(APID, 1, 1, accepted, 0, EXAMPLE_TIME, 0).pack()),
        Example("17,2 are-you-alive report", PusTm(APID, 17, 2, b"", 1, EXAMPLE_TIME, 0).pack()),
        Example("1,7 completion success report", PusTm(APID, 1, 7, completed, 2, EXAMPLE_TIME, 0).pack()),
        Example("99,1 TC (no such service), sequence count 2", unknown.pack()),
        Example("1,2 acceptance failure report: code 20 UNKNOWN_SERVICE, CBOR text \"service 99,1\"",
                PusTm(APID, 1, 2, rejected, 3, EXAMPLE_TIME, 0).pack()),
    ]


def examples_section() -> str:
    parts: list[str] = []
    for number, example in enumerate(examples(), start=1):
        parts += [
            f"**{number}. {example.title}** ({len(example.raw)} octets)",
            "",
            "```",
            hex_octets(example.raw),
            "```",
            "",
            breakdown(example.raw),
            "",
        ]
    return "\n".join(parts).rstrip()


def framing_section() -> str:
    ping = examples()[0].raw
    framed = frame(ping)
    long_packet = PusTc(APID, 8, 1, encode_cbor([0x0101, "x" * 300]), seq_count=3).pack()
    long_framed = frame(long_packet)
    return "\n".join([
        f"The 17,1 ping of worked example 1 ({len(ping)} octets) on the wire ({len(framed)} octets):",
        "",
        "```",
        hex_octets(framed),
        "```",
        "",
        "Read it as: delimiter `00`; then each COBS code octet `n` is followed by `n - 1` data octets and",
        "stands for a `00` after them (except at the end of the frame); closing delimiter `00`. Here the",
        f"code octets are at frame offsets {', '.join(str(i) for i in _code_offsets(framed))}.",
        "",
        f"A {len(long_packet)}-octet packet becomes a {len(long_framed)}-octet frame: one code octet, one more per 254",
        "octets, and the two delimiters.",
    ])


def _code_offsets(framed: bytes) -> list[int]:
    offsets, index = [], 1
    while index < len(framed) - 1:
        offsets.append(index)
        index += framed[index]
    return offsets


SECTIONS = {
    "failure-codes": failure_code_table,
    "examples": examples_section,
    "framing-example": framing_section,
}

_SECTION = re.compile(r"(<!-- generated:(?P<name>[a-z-]+) -->\n)(?P<body>.*?\n)?(<!-- /generated:(?P=name) -->)", re.S)


def render(document: str) -> str:
    """The document with every generated section replaced by fresh output."""
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        found.add(name)
        return match.group(1) + SECTIONS[name]() + "\n" + match.group(4)

    rendered = _SECTION.sub(replace, document)
    missing = set(SECTIONS) - found
    if missing:
        raise ValueError(f"docs/icd.md lacks generated sections: {sorted(missing)}")
    return rendered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the generated sections of docs/icd.md")
    args = parser.parse_args(argv)
    current = ICD_PATH.read_text()
    fresh = render(current)
    if args.write:
        ICD_PATH.write_text(fresh)
        return 0
    if fresh != current:
        print(f"{ICD_PATH} is stale: run python -m tests.fsw.protocol.icd_examples --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
