"""Interoperability with spacepackets 0.32, an independent implementation used by tmtccmd."""

from __future__ import annotations

import pytest
from fastcrc import crc16 as fastcrc16  # the CRC implementation spacepackets uses
from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ccsds.spacepacket import SpacePacketHeader as SpHeader
from spacepackets.ecss import PusTc as SpTc
from spacepackets.ecss import PusTm as SpTm
from spacepackets.ecss.pus_1_verification import ManagedParamsVerification, Service1Tm
from spacepackets.ecss.tc import InvalidTcCrc16Error
from spacepackets.ecss.tm import InvalidTmCrc16Error, ManagedParams

from fsw.protocol import (
    PusTc,
    PusTm,
    SpacePacketHeader,
    VerificationReport,
    VerificationSubtype,
    crc16,
    decode_cbor,
)
from fsw.protocol.cuc import pack_cuc
from fsw.protocol.errors import BadCrcError, FailureCode

apids = st.integers(0, 2046)  # 2047 is the idle APID
seq_counts = st.integers(0, 16383)
octets = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
payloads = st.binary(max_size=300)
cuc_times = st.builds(lambda coarse, fine: coarse + fine / 65536, st.integers(0, 0xFFFFFFFF), u16)


@given(apid=apids, seq=seq_counts, service=octets, subtype=octets, ack=st.integers(0, 15), source=u16, data=payloads)
def test_our_tc_parses_in_spacepackets(
    apid: int, seq: int, service: int, subtype: int, ack: int, source: int, data: bytes
) -> None:
    raw = PusTc(apid, service, subtype, data, seq_count=seq, ack_flags=ack, source_id=source).pack()
    theirs = SpTc.unpack(raw)  # checks the CRC
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (apid, seq, service, subtype)
    assert (theirs.pus_tc_sec_header.ack_flags, theirs.source_id, theirs.app_data) == (ack, source, data)
    # Byte-identical: their packer produces exactly what ours does.
    theirs_built = SpTc(
        service=service, message_subtype=subtype, apid=apid, seq_count=seq, app_data=data, source_id=source,
        ack_flags=ack,
    )
    assert bytes(theirs_built.pack()) == raw


@given(apid=apids, seq=seq_counts, service=octets, subtype=octets, ack=st.integers(0, 15), source=u16, data=payloads)
def test_spacepackets_tc_parses_here(
    apid: int, seq: int, service: int, subtype: int, ack: int, source: int, data: bytes
) -> None:
    raw = bytes(
        SpTc(
            service=service, message_subtype=subtype, apid=apid, seq_count=seq, app_data=data, source_id=source,
            ack_flags=ack,
        ).pack()
    )
    ours = PusTc.unpack(raw)
    assert (ours.apid, ours.seq_count, ours.service, ours.subtype) == (apid, seq, service, subtype)
    assert (ours.ack_flags, ours.source_id, ours.app_data) == (ack, source, data)


@given(
    apid=apids, seq=seq_counts, service=octets, subtype=octets, counter=u16, dest=u16, time=cuc_times, data=payloads,
)
def test_our_tm_parses_in_spacepackets(
    apid: int, seq: int, service: int, subtype: int, counter: int, dest: int, time: float, data: bytes
) -> None:
    raw = PusTm(apid, service, subtype, data, seq_count=seq, time=time, msg_counter=counter, dest_id=dest).pack()
    theirs = SpTm.unpack(raw, timestamp_len=7)  # checks the CRC
    assert (theirs.apid, theirs.seq_count, theirs.service, theirs.message_subtype) == (apid, seq, service, subtype)
    header = theirs.pus_tm_sec_header
    assert (header.message_counter, header.dest_id, header.spacecraft_time_ref) == (counter, dest, 0)
    assert theirs.timestamp == pack_cuc(time)
    assert theirs.source_data == data


@given(
    apid=apids, seq=seq_counts, service=octets, subtype=octets, counter=u16, dest=u16, time=cuc_times, data=payloads,
)
def test_spacepackets_tm_parses_here(
    apid: int, seq: int, service: int, subtype: int, counter: int, dest: int, time: float, data: bytes
) -> None:
    theirs = SpTm(
        service=service, message_subtype=subtype, timestamp=pack_cuc(time), source_data=data, apid=apid,
        seq_count=seq, message_counter=counter, destination_id=dest,
    )
    raw = bytes(theirs.pack())
    ours = PusTm.unpack(raw)
    assert (ours.apid, ours.seq_count, ours.service, ours.subtype) == (apid, seq, service, subtype)
    assert (ours.msg_counter, ours.dest_id, ours.time, ours.source_data) == (counter, dest, time, data)


def test_spacepackets_rejects_our_damaged_crc_and_we_reject_theirs() -> None:
    raw = bytearray(PusTc(100, 17, 1).pack())
    raw[-1] ^= 1
    with pytest.raises(InvalidTcCrc16Error):
        SpTc.unpack(bytes(raw))
    tm = bytearray(PusTm(100, 17, 2).pack())
    tm[-1] ^= 1
    with pytest.raises(InvalidTmCrc16Error):
        SpTm.unpack(bytes(tm), timestamp_len=7)
    theirs = bytearray(SpTc(service=17, message_subtype=1, apid=100).pack())
    theirs[-1] ^= 1
    with pytest.raises(BadCrcError):
        PusTc.unpack(bytes(theirs))


@given(packet_type=st.integers(0, 1), apid=st.integers(0, 2047), seq=seq_counts, length=u16, flags=st.integers(0, 3))
def test_primary_header_matches_spacepackets(packet_type: int, apid: int, seq: int, length: int, flags: int) -> None:
    raw = SpacePacketHeader(packet_type, apid, seq, length, seq_flags=flags).pack()
    theirs = SpHeader.unpack(raw)
    assert (int(theirs.packet_type), theirs.apid, theirs.seq_count) == (packet_type, apid, seq)
    assert (theirs.data_len, int(theirs.seq_flags), theirs.sec_header_flag) == (length, flags, True)


@given(st.binary(max_size=512))
def test_crc_agrees_with_spacepackets(data: bytes) -> None:
    assert crc16(data) == fastcrc16.ibm_3740(data)


def test_crc_check_value_both_sides() -> None:
    assert crc16(b"123456789") == fastcrc16.ibm_3740(b"123456789") == 0x29B1


TC_FOR_REPORTS = PusTc(100, 17, 1, seq_count=4242)


def parse_report_in_spacepackets(report: VerificationReport, seq: int = 7) -> Service1Tm:
    raw = PusTm(100, 1, report.subtype, report.pack(), seq_count=seq, time=2_000_000_000.25).pack()
    return Service1Tm.unpack(raw, ManagedParams(timestamp_len=7), ManagedParamsVerification(bytes_err_code=2))


@pytest.mark.parametrize(
    "subtype", [VerificationSubtype.ACCEPTANCE_OK, VerificationSubtype.START_OK, VerificationSubtype.COMPLETION_OK]
)
def test_success_reports_parse_in_spacepackets(subtype: VerificationSubtype) -> None:
    theirs = parse_report_in_spacepackets(VerificationReport(subtype, TC_FOR_REPORTS.request_id))
    assert theirs.message_subtype == subtype
    assert theirs.tc_req_id.as_u32() == TC_FOR_REPORTS.request_id
    assert theirs.tc_req_id.tc_psc.seq_count == 4242
    assert theirs.tc_req_id.tc_packet_id.apid == 100
    assert theirs.step_id is None
    assert theirs.error_code is None


@given(step=octets)
def test_progress_report_parses_in_spacepackets(step: int) -> None:
    report = VerificationReport(VerificationSubtype.PROGRESS_OK, TC_FOR_REPORTS.request_id, step=step)
    theirs = parse_report_in_spacepackets(report)
    assert theirs.tc_req_id.as_u32() == TC_FOR_REPORTS.request_id
    assert theirs.step_id is not None
    assert theirs.step_id.val == step


@pytest.mark.parametrize(
    "subtype",
    [
        VerificationSubtype.ACCEPTANCE_FAILED, VerificationSubtype.START_FAILED,
        VerificationSubtype.PROGRESS_FAILED, VerificationSubtype.COMPLETION_FAILED,
    ],
)
@pytest.mark.parametrize(
    "code", [FailureCode.BAD_CRC, FailureCode.UNKNOWN_SERVICE, FailureCode.MISSING_SECURITY_HEADER]
)
def test_failure_reports_parse_in_spacepackets(subtype: VerificationSubtype, code: FailureCode) -> None:
    step = 3 if subtype == VerificationSubtype.PROGRESS_FAILED else None
    data = {"detail": "service 99 unknown", "service": 99}
    report = VerificationReport(subtype, TC_FOR_REPORTS.request_id, step=step, code=code, data=data)
    theirs = parse_report_in_spacepackets(report)
    assert theirs.tc_req_id.as_u32() == TC_FOR_REPORTS.request_id
    assert theirs.error_code is not None
    assert theirs.error_code.val == code
    assert theirs.error_code.pfc == 16
    assert theirs.failure_notice is not None
    assert decode_cbor(theirs.failure_notice.data) == data
    if step is None:
        assert theirs.step_id is None
    else:
        assert theirs.step_id is not None
        assert theirs.step_id.val == step
    # And back: our parser reads the same source data.
    ours = VerificationReport.unpack(subtype, theirs.source_data)
    assert ours == report
