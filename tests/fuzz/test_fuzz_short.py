"""The short fuzz that runs in ``make test``; ``make fuzz`` runs the long one."""

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsw.protocol.framing import frame
from fsw.protocol.packet import PusTc
from tests.fuzz import targets

streams = st.lists(
    st.one_of(
        st.binary(max_size=80),
        st.builds(lambda d: frame(PusTc(100, 17, 1, d).pack()), st.binary(max_size=40)),
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(streams)
def test_deframer_survives_any_stream(data: bytes) -> None:
    targets.deframe(data)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=300))
def test_packet_decoder_raises_only_typed_errors(data: bytes) -> None:
    targets.decode_packet(data)


@pytest.fixture(scope="module")
def decoder() -> Iterator[targets.CommandDecoder]:
    decoder = targets.CommandDecoder()
    yield decoder
    decoder.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=2, max_size=60))
def test_command_decoder_gives_exactly_one_verdict(decoder: targets.CommandDecoder, data: bytes) -> None:
    decoder(data)
