from fsw.protocol import CRC_CHECK_VALUE, crc16


def test_check_value_of_the_catalogue() -> None:
    assert crc16(b"123456789") == CRC_CHECK_VALUE == 0x29B1


def test_crc_over_packet_with_its_crc_is_zero() -> None:
    body = b"\x18\x64\xc0\x00\x00\x06\x2f\x11\x01\x00\x00"
    assert crc16(body + crc16(body).to_bytes(2, "big")) == 0


def test_crc_agrees_with_the_standard_library_and_continues() -> None:
    from binascii import crc_hqx

    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.binary(max_size=300), st.binary(max_size=50))
    def check(head: bytes, tail: bytes) -> None:
        assert crc16(head + tail) == crc_hqx(head + tail, 0xFFFF)
        assert crc16(tail, crc16(head)) == crc16(head + tail)

    check()
