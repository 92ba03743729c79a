"""Argument and parameter values checked against their declaration: type, range, enumeration, length."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.protocol import ArgumentRangeError, ArgumentSpec, BadArgumentError, FailureCode, PacketError
from fsw.protocol.arguments import INT_RANGES, SHOWN_VALUE_CHARACTERS, VALUE_TYPES

INT_TYPES = sorted(INT_RANGES)
MODES = ("BOOT", "SAFE", "NOMINAL")


def refusal(spec: ArgumentSpec, value: Any, **options: bool) -> BadArgumentError:
    with pytest.raises(BadArgumentError) as caught:
        spec.check(value, **options)
    assert caught.value.message.startswith(f"{spec.name}: ")
    return caught.value


def test_error_codes_are_the_dispatch_codes() -> None:
    assert BadArgumentError("x").code is FailureCode.BAD_ARGUMENT
    assert ArgumentRangeError("x").code is FailureCode.ARGUMENT_RANGE
    assert issubclass(ArgumentRangeError, BadArgumentError) and issubclass(BadArgumentError, PacketError)


@given(st.sampled_from(INT_TYPES), st.data())
def test_integers_inside_their_type_pass_unchanged(kind: str, data: st.DataObject) -> None:
    low, high = INT_RANGES[kind]
    value = data.draw(st.one_of(st.just(low), st.just(high), st.integers(low, high)))
    checked = ArgumentSpec("n", kind).check(value)
    assert checked == value and type(checked) is int


@given(st.sampled_from(INT_TYPES), st.integers(1, 1 << 70), st.booleans())
def test_integers_outside_their_type_are_out_of_range(kind: str, beyond: int, above: bool) -> None:
    low, high = INT_RANGES[kind]
    value = high + beyond if above else low - beyond
    error = refusal(ArgumentSpec("n", kind), value)
    assert error.code is FailureCode.ARGUMENT_RANGE
    assert error.message == f"n: {value} does not fit in {kind} ({low}..{high})"


@given(st.sampled_from(INT_TYPES), st.one_of(st.booleans(), st.floats(), st.text(max_size=4), st.none()))
def test_integers_refuse_other_types(kind: str, value: Any) -> None:
    error = refusal(ArgumentSpec("n", kind), value)
    assert error.code is FailureCode.BAD_ARGUMENT
    assert error.message == f"n: expected an integer ({kind}), got {value!r}"


@given(st.sampled_from(["f32", "f64"]), st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                                                   st.integers(-(1 << 60), 1 << 60)))
def test_finite_numbers_become_floats(kind: str, value: float) -> None:
    checked = ArgumentSpec("x", kind).check(value)
    assert type(checked) is float and checked == float(value)


@given(st.sampled_from(["f32", "f64"]), st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_numbers_are_out_of_range(kind: str, value: float) -> None:
    assert refusal(ArgumentSpec("x", kind), value).code is FailureCode.ARGUMENT_RANGE


@given(st.sampled_from(["f32", "f64"]), st.one_of(st.booleans(), st.text(max_size=4), st.binary(max_size=4)))
def test_numbers_refuse_booleans_and_text(kind: str, value: Any) -> None:
    assert refusal(ArgumentSpec("x", kind), value).code is FailureCode.BAD_ARGUMENT


@given(st.floats(-1e6, 1e6), st.floats(0, 1e6), st.floats(-2e6, 3e6))
def test_declared_bounds_are_inclusive(low: float, span: float, value: float) -> None:
    spec = ArgumentSpec("x", "f64", min=low, max=low + span)
    if low <= value <= low + span:
        assert spec.check(value) == value
    else:
        error = refusal(spec, value)
        assert error.code is FailureCode.ARGUMENT_RANGE
        assert ("below the minimum" if value < low else "above the maximum") in error.message
    assert spec.check(low) == low and spec.check(low + span) == low + span


def test_bounds_read_as_written() -> None:
    assert refusal(ArgumentSpec("last", "u16", max=512), 9999).message == "last: 9999 is above the maximum 512"
    assert refusal(ArgumentSpec("w", "f32", min=0.5), 0.1).message == "w: 0.1 is below the minimum 0.5"


@given(st.booleans())
def test_booleans_pass(value: bool) -> None:
    assert ArgumentSpec("b", "bool").check(value) is value


@given(st.one_of(st.sampled_from([0, 1, 0.0, 1.0, "true", "false", "1", b"\x01", None]), st.integers(-9, 9)))
def test_booleans_are_strict(value: Any) -> None:
    error = refusal(ArgumentSpec("b", "bool"), value)
    assert error.code is FailureCode.BAD_ARGUMENT
    assert error.message == f"b: expected true or false, got {value!r}"


@given(st.sampled_from(MODES))
def test_enum_names_pass(name: str) -> None:
    assert ArgumentSpec("mode", "enum", enum=MODES).check(name) == name


@given(st.integers(0, len(MODES) - 1))
def test_enum_index_is_the_compact_form_only_when_allowed(index: int) -> None:
    spec = ArgumentSpec("mode", "enum", enum=MODES)
    assert spec.check(index) == MODES[index]
    assert refusal(spec, index, enum_index=False).code is FailureCode.ARGUMENT_RANGE


@given(st.one_of(st.text(max_size=8).filter(lambda text: text not in MODES), st.integers(-(1 << 40), 1 << 40).filter(
    lambda index: not 0 <= index < len(MODES)), st.booleans(), st.floats(allow_nan=False), st.none()))
def test_enum_refuses_anything_else(value: Any) -> None:
    error = refusal(ArgumentSpec("mode", "enum", enum=MODES), value)
    assert error.code is FailureCode.ARGUMENT_RANGE
    assert error.message == f"mode: {value!r} is not one of BOOT, SAFE, NOMINAL"


@given(st.integers(0, 16), st.one_of(st.text(max_size=24), st.binary(max_size=24)))
def test_text_and_octets_length(max_length: int, value: str | bytes) -> None:
    spec = ArgumentSpec("s", "str" if isinstance(value, str) else "bytes", max_length=max_length)
    if len(value) <= max_length:
        assert spec.check(value) == value
    else:
        error = refusal(spec, value)
        assert error.code is FailureCode.ARGUMENT_RANGE and error.message == f"s: longer than {max_length}"


@given(st.one_of(st.binary(max_size=4), st.integers(-999, 999), st.none(), st.lists(st.integers(0, 9), max_size=2)))
def test_text_refuses_other_types(value: Any) -> None:
    error = refusal(ArgumentSpec("s", "str", max_length=1), value)
    assert error.code is FailureCode.BAD_ARGUMENT and error.message == f"s: expected str, got {value!r}"


@given(st.one_of(st.text(max_size=4), st.integers(), st.none()))
def test_octets_refuse_other_types(value: Any) -> None:
    assert refusal(ArgumentSpec("o", "bytes"), value).code is FailureCode.BAD_ARGUMENT


def test_a_long_refused_value_is_shown_shortened() -> None:
    error = refusal(ArgumentSpec("n", "u8"), b"\xff" * 1000)
    shown = error.message.removeprefix("n: expected an integer (u8), got ")
    assert shown.startswith("b'\\xff") and shown.endswith("... (bytes)")
    assert len(shown) < SHOWN_VALUE_CHARACTERS + len("... (bytes)")


@given(st.builds(
    ArgumentSpec, st.text(min_size=1, max_size=8), st.sampled_from(sorted(VALUE_TYPES)), st.text(max_size=8),
    st.one_of(st.none(), st.integers(-100, 100), st.floats(allow_nan=False)),
    st.one_of(st.none(), st.integers(-100, 100), st.floats(allow_nan=False)),
    st.one_of(st.none(), st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4).map(tuple)),
    st.text(max_size=4), st.one_of(st.none(), st.integers(0, 4096)),
))
def test_dictionary_entry_round_trip(spec: ArgumentSpec) -> None:
    assert ArgumentSpec.from_dict(spec.to_dict()) == spec


def test_dictionary_entry_omits_defaults() -> None:
    assert ArgumentSpec("last", "u16", max=512).to_dict() == {"name": "last", "type": "u16", "max": 512}
