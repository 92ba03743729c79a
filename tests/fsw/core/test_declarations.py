"""Declared arguments and parameters: checked on board exactly as the ground checks them from the dictionary."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsw.core.declarations import Arg, CommandDef, ParameterDef, ValidationError
from fsw.protocol.errors import FailureCode
from ground.dictionary import ArgSpec, ArgumentError

DECLARED = [
    Arg("count", "u8", max=200), Arg("offset", "i16", min=-1000), Arg("gain", "f32", min=-1.0, max=1.0),
    Arg("delay_s", "f64"), Arg("armed", "bool"), Arg("mode", "enum", enum=("SAFE", "NOMINAL")),
    Arg("label", "str", max_length=4), Arg("blob", "bytes", max_length=3), Arg("opcode", "u32"),
]
VALUES = st.one_of(
    st.integers(-70_000, 70_000), st.floats(-2.0, 2.0), st.sampled_from([float("nan"), float("inf")]),
    st.booleans(), st.none(), st.text(max_size=6), st.binary(max_size=5), st.sampled_from(["SAFE", "NOMINAL"]),
)


def flight_verdict(arg: Arg, value: Any) -> tuple[str, Any]:
    try:
        return "accepted", arg.validate(value)
    except ValidationError as error:
        return error.code.name, error.message


@given(st.sampled_from(DECLARED), VALUES)
def test_ground_refuses_what_the_flight_refuses_in_the_same_words(arg: Arg, value: Any) -> None:
    ground = ArgSpec.from_json(arg.to_dict())
    verdict, detail = flight_verdict(arg, value)
    is_enum_index = arg.type == "enum" and type(value) is int
    if verdict == "accepted" and not is_enum_index:
        assert ground.check(value) == detail
    elif verdict == "accepted":
        with pytest.raises(ArgumentError):  # the ground sends enums by name
            ground.check(value)
        assert ground.check(value, enum_index=True) == detail
    else:
        with pytest.raises(ArgumentError) as caught:
            ground.check(value)
        assert str(caught.value) == detail


@pytest.mark.parametrize(("value", "code"), [
    (201, FailureCode.ARGUMENT_RANGE), (256, FailureCode.ARGUMENT_RANGE), (-1, FailureCode.ARGUMENT_RANGE),
    (True, FailureCode.BAD_ARGUMENT), (1.0, FailureCode.BAD_ARGUMENT), ("7", FailureCode.BAD_ARGUMENT),
])
def test_flight_failure_codes(value: Any, code: FailureCode) -> None:
    with pytest.raises(ValidationError) as caught:
        Arg("count", "u8", max=200).validate(value)
    assert caught.value.code is code


def test_command_argument_count() -> None:
    definition = CommandDef("DUMP", 0x0101, (Arg("last", "u16"),))
    assert definition.validate_args([3]) == [3]
    with pytest.raises(ValidationError) as caught:
        definition.validate_args([3, 4])
    assert caught.value.code is FailureCode.BAD_ARGUMENT
    assert caught.value.message == "DUMP takes 1 arguments, got 2"


def test_parameters_take_the_same_checks() -> None:
    window = ParameterDef(0x0301, "arm_window_s", "f32", 10.0, min=0.5, max=60.0)
    assert window.validate(12) == 12.0
    with pytest.raises(ValidationError) as caught:
        window.validate(0.1)
    assert caught.value.code is FailureCode.ARGUMENT_RANGE
    assert caught.value.message == "arm_window_s: 0.1 is below the minimum 0.5"
    level = ParameterDef(0x0302, "level", "enum", "LOW", enum=("LOW", "HIGH"))
    assert level.validate(1) == "HIGH"


@pytest.mark.parametrize(("kind", "enum"), [("u64", None), ("enum", None), ("u8", ("A",))])
def test_declarations_refuse_unknown_types_and_stray_enums(kind: str, enum: tuple[str, ...] | None) -> None:
    with pytest.raises(TypeError):
        Arg("a", kind, enum=enum)
