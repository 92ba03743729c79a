"""docs/icd.md says what the code does: generated sections fresh, examples valid to an outside parser."""

from __future__ import annotations

import re

from cobs import cobs
from spacepackets.ecss import PusTc as SpTc
from spacepackets.ecss import PusTm as SpTm

from fsw.protocol import CRC_CHECK_VALUE, DEFAULT_MAX_PACKET_SIZE, Deframer, FailureCode, PusTc
from fsw.protocol.packet import TC_MIN_LEN, TM_MIN_LEN

from .icd_examples import FAILURE_CODE_MEANINGS, ICD_PATH, examples, render

DOCUMENT = ICD_PATH.read_text()
DICTIONARY_PLACEHOLDER = "<!-- dictionary tables are generated; see fsw dictionary -->"


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOCUMENT, re.S | re.M)
    assert match, f"docs/icd.md has no section {title!r}"
    return match.group(1)


def test_generated_sections_are_fresh() -> None:
    # On failure: python -m tests.fsw.protocol.icd_examples --write
    assert render(DOCUMENT) == DOCUMENT


def test_every_failure_code_is_documented() -> None:
    assert set(FAILURE_CODE_MEANINGS) == set(FailureCode)
    table = section("Service 1: request verification reports")
    for code in FailureCode:
        assert f"| {int(code)} | `{int(code):04X}` | `{code.name}` |" in table


def test_worked_examples_parse_in_spacepackets() -> None:
    blocks = re.findall(r"```\n([0-9A-F ]+)\n```", section("Worked examples"))
    packets = [bytes.fromhex(block) for block in blocks]
    assert packets == [example.raw for example in examples()]
    for raw in packets:
        if raw[0] & 0x10:
            theirs_tc = SpTc.unpack(raw)
            assert theirs_tc.apid == 100
        else:
            theirs_tm = SpTm.unpack(raw, timestamp_len=7)
            assert theirs_tm.apid == 100
            assert theirs_tm.timestamp[0] == 0x1E
    services = [(raw[7], raw[8]) for raw in packets]
    assert services == [(17, 1), (1, 1), (17, 2), (1, 7), (99, 1), (1, 2)]


def test_framing_example_deframes_to_the_ping() -> None:
    text = section("Framing on serial links: COBS")
    (block,) = re.findall(r"```\n([0-9A-F ]+)\n```", text)
    framed = bytes.fromhex(block)
    deframer = Deframer(validate=PusTc.unpack)
    ((raw, tc),) = deframer.feed(framed)
    assert raw == examples()[0].raw
    assert isinstance(tc, PusTc) and (tc.service, tc.subtype, tc.apid) == (17, 1, 100)
    assert cobs.decode(framed[1:-1]) == raw


def test_stated_constants_match_the_code() -> None:
    flat = " ".join(DOCUMENT.split())  # immune to line wrapping
    assert f"`0x{CRC_CHECK_VALUE:04X}`" in flat
    assert f"at most **{DEFAULT_MAX_PACKET_SIZE} octets**" in flat
    assert f"at most {DEFAULT_MAX_PACKET_SIZE - TC_MIN_LEN} octets of application data" in flat
    assert f"at most {DEFAULT_MAX_PACKET_SIZE - TM_MIN_LEN} octets of source data" in flat
    assert f"Smallest TC: {TC_MIN_LEN} octets" in flat
    assert f"Smallest TM: {TM_MIN_LEN} octets" in flat
    assert "P-field `0x1E`" in flat


def test_dictionary_section_belongs_to_the_dictionary_generator() -> None:
    # The section began as only a placeholder; `ilrs-fsw dictionary --update-docs` owns its content,
    # so the packet layer's generator must never write there.
    text = section("Dictionary")
    assert text.strip()
    assert "<!-- generated:" not in text
    assert DICTIONARY_PLACEHOLDER in text or "DICTIONARY" in text
