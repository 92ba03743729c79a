"""The device bus encoding: per-class encoders and decoders give what the general rule says."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

import pytest

from fsw.devices import codec
from fsw.devices.bus import decode, encode
from fsw.devices.descent import DeviceHealth, ElevationImageReading, ImuReading, RangeReading
from fsw.protocol.errors import PacketError


class _Beam(enum.IntEnum):
    LONG = 1


@dataclass(frozen=True)
class _Checked:
    """Not slotted, and with a check in __post_init__: decoded through its own __init__."""

    value: float

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


def test_readings_travel_as_a_named_list_of_fields() -> None:
    reading = ImuReading(1.5, (0.1, 0.2, 9.0), (0.0, 0.0, 0.01), -1.2, 0.0, 1, True, True)
    assert encode(reading) == {"ImuReading": [1.5, [0.1, 0.2, 9.0], [0.0, 0.0, 0.01], -1.2, 0.0, 1, True, True]}
    image = ElevationImageReading(2.0, 1, 2, 2.0, -1.0, -2.0, 0.05, b"\x00\x01\xff\xfe", True)
    assert encode(image)["ElevationImageReading"][7] == b"\x00\x01\xff\xfe"  # octets travel as they are
    for value in (reading, image, RangeReading(3.0, 15.0, "long", True), DeviceHealth(1.0, False, ("hot",))):
        back = decode(encode(value))
        assert back == value and type(back) is type(value)
        assert [type(getattr(back, f.name)) for f in fields(back)] == [
            type(getattr(value, f.name)) for f in fields(value)]


def test_sequences_become_lists_and_come_back_as_tuples() -> None:
    assert encode((1, [2.0, ("a", None)], b"x")) == [1, [2.0, ["a", None]], b"x"]
    assert decode([1, [2.0, ["a", None]]]) == (1, (2.0, ("a", None)))
    reading = ImuReading(0.0, [1.0, 2.0, 3.0], (0.0, 0.0, 0.0), 0.0, 0.0, 0, True, True)  # type: ignore[arg-type]
    assert decode(encode(reading)).specific_force_body == (1.0, 2.0, 3.0)


def test_a_subclass_of_a_scalar_travels_as_it_is() -> None:
    assert encode(_Beam.LONG) is _Beam.LONG
    assert encode([_Beam.LONG]) == [1]


def test_what_cannot_travel_is_refused_with_a_type_error() -> None:
    for value in ({"a": 1}, {1, 2}, object()):
        with pytest.raises(TypeError, match="cannot travel on the device bus"):
            encode(value)


def test_a_malformed_reading_fails_as_its_init_would() -> None:
    with pytest.raises(PacketError, match="unknown reading type"):
        decode({"NoSuchReading": [1]})
    with pytest.raises(TypeError, match="missing 7 required positional arguments"):
        decode({"ImuReading": [1.0]})
    with pytest.raises(TypeError, match="not iterable"):
        decode({"ImuReading": 5})
    assert decode({"a": 1, "b": 2}) == {"a": 1, "b": 2}  # not a reading: itself


def test_classes_with_their_own_init_work_are_built_through_it() -> None:
    codec._READING_TYPES["_Checked"] = _Checked
    try:
        assert decode(encode(_Checked(2.0))) == _Checked(2.0)
        with pytest.raises(ValueError, match="negative"):
            decode({"_Checked": [-1.0]})
    finally:
        del codec._READING_TYPES["_Checked"]
        codec._DECODERS.pop("_Checked", None)


def test_a_reading_carried_in_process_is_what_the_encoding_would_deliver() -> None:
    plain = [ImuReading(1.5, (0.1, 0.2, 9.0), (0.0, 0.0, 0.01), -1.2, 0.0, 1, True, True),
             ElevationImageReading(2.0, 1, 2, 2.0, -1.0, -2.0, 0.05, b"\x00\x01", True),
             RangeReading(3.0, 15.0, "long", True), DeviceHealth(1.0, False, ("hot",)), 2.5, "text", None]
    for value in plain:  # immutable and equal field for field: handed over as it is
        assert codec.carry(value) is value
        assert decode(codec.carry(value)) == decode(encode(value))
    # A list field would come back a tuple, an enum field as itself: these take the travelling form.
    listed = ImuReading(0.0, [1.0, 2.0, 3.0], (0.0, 0.0, 0.0), 0.0, 0.0, 0, True, True)  # type: ignore[arg-type]
    assert codec.carry(listed) == encode(listed)
    assert decode(codec.carry(listed)).specific_force_body == (1.0, 2.0, 3.0)
    enum_field = RangeReading(3.0, 15.0, _Beam.LONG, True)  # type: ignore[arg-type]
    assert codec.carry(enum_field) == encode(enum_field) and decode(codec.carry(enum_field)) == enum_field
    assert codec.carry([1, (2.0, "a")]) == [1, [2.0, "a"]]
    with pytest.raises(TypeError, match="cannot travel on the device bus"):
        codec.carry({"a": 1})


def test_a_type_the_flight_side_would_not_decode_is_not_carried_as_it_is() -> None:
    codec._READING_TYPES["_Checked"] = _Checked  # its __init__ checks: decoded through it, so carried encoded
    try:
        assert codec.carry(_Checked(2.0)) == {"_Checked": [2.0]}
    finally:
        del codec._READING_TYPES["_Checked"]
        codec._DECODERS.pop("_Checked", None)
        codec._CARRIERS.pop(_Checked, None)

    @dataclass(frozen=True, slots=True)
    class ImuReading2:  # same shape, unregistered: the flight side would refuse it
        t: float

    assert codec.carry(ImuReading2(1.0)) == {"ImuReading2": [1.0]}
    with pytest.raises(PacketError, match="unknown reading type"):
        decode(codec.carry(ImuReading2(1.0)))
