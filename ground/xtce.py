"""The dictionary as XTCE 1.2 (OMG, namespace 20180204), for ground systems such as Yamcs.

One Parameter per telemetry point (with its own type carrying unit and alarm limits), one
MetaCommand per command (with typed arguments and valid ranges). XTCE cannot describe CBOR
payloads, so encodings are the natural binary widths and the CBOR layout is stated in the
descriptions; a ground system needs a CBOR pre-processor to decode these packets.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fsw.protocol import DEFAULT_MAX_PACKET_SIZE

from .dictionary import INT_RANGES, ArgSpec, Dictionary, PointSpec

XTCE_NAMESPACE = "http://www.omg.org/spec/XTCE/20180204"
_NS = f"{{{XTCE_NAMESPACE}}}"
# A string without a declared maximum (telemetry text, event arguments) is bounded by the packet.
DEFAULT_STRING_OCTETS = 256


def _el(parent: ET.Element, tag: str, **attributes: Any) -> ET.Element:
    return ET.SubElement(parent, _NS + tag, {key: str(value) for key, value in attributes.items()
                                             if value is not None})


def _integer_encoding(parent: ET.Element, kind: str) -> None:
    bits = int(kind[1:]) if kind in INT_RANGES else 32
    signed = kind.startswith("i")
    _el(parent, "IntegerDataEncoding", sizeInBits=bits, encoding="twosComplement" if signed else "unsigned")


def _string_encoding(parent: ET.Element, max_octets: int | None) -> None:
    # CBOR text strings carry their length before the content: a length-prefixed string of at most
    # ``max_octets`` octets is the nearest XTCE form (the prefix's width is CBOR's, not fixed).
    encoding = _el(parent, "StringDataEncoding", encoding="UTF-8")
    size = _el(encoding, "SizeInBits")
    _el(_el(size, "Fixed"), "FixedValue").text = str(8 * (max_octets or DEFAULT_STRING_OCTETS))
    _el(size, "LeadingSize", sizeInBitsOfSizeTag=16)


def _binary_encoding(parent: ET.Element) -> None:
    # CBOR byte strings carry their own length; XTCE asks for a size: the most one packet can hold.
    size = _el(_el(parent, "BinaryDataEncoding"), "SizeInBits")
    _el(size, "FixedValue").text = str(8 * DEFAULT_MAX_PACKET_SIZE)


def _unit(parent: ET.Element, unit: str) -> None:
    units = _el(parent, "UnitSet")
    if unit:
        _el(units, "Unit").text = unit


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def _alarm(parent: ET.Element, point: PointSpec) -> None:
    if not point.yellow and not point.red:
        return
    ranges = _el(_el(parent, "DefaultAlarm"), "StaticAlarmRanges")
    for tag, bounds in (("WarningRange", point.yellow), ("CriticalRange", point.red)):
        if bounds:
            low, high = bounds
            _el(ranges, tag, minInclusive=None if low is None else _number(low),
                maxInclusive=None if high is None else _number(high))


def _parameter_type(type_set: ET.Element, point: PointSpec) -> str:
    name = f"{point.name}_type"
    kind = point.type
    if point.enum or kind == "enum":
        element = _el(type_set, "EnumeratedParameterType", name=name)
        _unit(element, point.unit)
        _el(element, "IntegerDataEncoding", sizeInBits=8, encoding="unsigned")
        values = _el(element, "EnumerationList")
        for index, label in enumerate(point.enum or ()):
            _el(values, "Enumeration", value=index, label=label)
    elif kind in INT_RANGES:
        element = _el(type_set, "IntegerParameterType", name=name, signed=str(kind.startswith("i")).lower(),
                      sizeInBits=int(kind[1:]))
        _unit(element, point.unit)
        _integer_encoding(element, kind)
        _alarm(element, point)
    elif kind in ("f32", "f64"):
        element = _el(type_set, "FloatParameterType", name=name, sizeInBits=int(kind[1:]))
        _unit(element, point.unit)
        _el(element, "FloatDataEncoding", sizeInBits=int(kind[1:]), encoding="IEEE754_1985")
        _alarm(element, point)
    elif kind == "bool":
        element = _el(type_set, "BooleanParameterType", name=name, zeroStringValue="False", oneStringValue="True")
        _unit(element, point.unit)
        _el(element, "IntegerDataEncoding", sizeInBits=8, encoding="unsigned")
    elif kind == "bytes":
        element = _el(type_set, "BinaryParameterType", name=name)
        _unit(element, point.unit)
        _binary_encoding(element)
    else:
        element = _el(type_set, "StringParameterType", name=name)
        _unit(element, point.unit)
        _string_encoding(element, None)
    return name


def _argument_type(type_set: ET.Element, command: str, arg: ArgSpec) -> str:
    name = f"{command}_{arg.name}_type"
    kind = arg.type
    if kind == "enum":
        element = _el(type_set, "EnumeratedArgumentType", name=name)
        _unit(element, arg.unit)
        _el(element, "IntegerDataEncoding", sizeInBits=8, encoding="unsigned")
        values = _el(element, "EnumerationList")
        for index, label in enumerate(arg.enum or ()):
            _el(values, "Enumeration", value=index, label=label)
    elif kind in INT_RANGES or kind in ("f32", "f64"):
        is_int = kind in INT_RANGES
        tag = "IntegerArgumentType" if is_int else "FloatArgumentType"
        attributes: dict[str, Any] = {"name": name, "sizeInBits": int(kind[1:])}
        if is_int:
            attributes["signed"] = str(kind.startswith("i")).lower()
        element = _el(type_set, tag, **attributes)
        _unit(element, arg.unit)
        if is_int:
            _integer_encoding(element, kind)
        else:
            _el(element, "FloatDataEncoding", sizeInBits=int(kind[1:]), encoding="IEEE754_1985")
        low, high = arg.min, arg.max
        if is_int:
            type_low, type_high = INT_RANGES[kind]
            low = type_low if low is None else low
            high = type_high if high is None else high
        if low is not None or high is not None:
            ranges = _el(element, "ValidRangeSet")
            _el(ranges, "ValidRange", minInclusive=None if low is None else _number(low),
                maxInclusive=None if high is None else _number(high))
    elif kind == "bool":
        element = _el(type_set, "BooleanArgumentType", name=name)
        _unit(element, arg.unit)
        _el(element, "IntegerDataEncoding", sizeInBits=8, encoding="unsigned")
    elif kind == "bytes":
        element = _el(type_set, "BinaryArgumentType", name=name)
        _unit(element, arg.unit)
        _binary_encoding(element)
    else:
        element = _el(type_set, "StringArgumentType", name=name)
        _unit(element, arg.unit)
        _string_encoding(element, arg.max_length)
    return name


def build_xtce(dictionary: Dictionary, name: str = "ILRS") -> ET.Element:
    ET.register_namespace("xtce", XTCE_NAMESPACE)
    root = ET.Element(_NS + "SpaceSystem", {"name": name})
    # The schema orders a SpaceSystem's children: descriptions first, then the header.
    _el(root, "LongDescription").text = (
        f"APID {dictionary.apid}. PUS 3,25 housekeeping carries CBOR [structure id, {{name: value}}]; "
        "PUS 8,1 commands carry CBOR [opcode, arg, ...]. Generated from the flight dictionary.")
    header = _el(root, "Header", version=str(dictionary.version), validationStatus="Working")
    header.set("classification", "NotClassified")

    telemetry = _el(root, "TelemetryMetaData")
    parameter_types = _el(telemetry, "ParameterTypeSet")
    parameters = _el(telemetry, "ParameterSet")
    for point in sorted(dictionary.points.values(), key=lambda p: (p.structure, p.name)):
        type_name = _parameter_type(parameter_types, point)
        parameter = _el(parameters, "Parameter", name=point.name, parameterTypeRef=type_name,
                        shortDescription=point.description or None)
        aliases = _el(parameter, "AliasSet")
        _el(aliases, "Alias", nameSpace="structure", alias=f"{point.structure}:"
            f"{dictionary.structure_name(point.structure)}")

    commands = _el(root, "CommandMetaData")
    argument_types = _el(commands, "ArgumentTypeSet")
    meta_commands = _el(commands, "MetaCommandSet")
    for spec in sorted(dictionary.commands.values(), key=lambda c: c.opcode):
        meta = _el(meta_commands, "MetaCommand", name=spec.name, shortDescription=spec.description or None)
        description = f"opcode 0x{spec.opcode:04X}; allowed in {', '.join(spec.modes)}"
        if spec.critical:
            description += "; CRITICAL: must be armed (ARM opcode) first"
        _el(meta, "LongDescription").text = description
        aliases = _el(meta, "AliasSet")
        _el(aliases, "Alias", nameSpace="opcode", alias=f"0x{spec.opcode:04X}")
        if spec.args:
            arguments = _el(meta, "ArgumentList")
            for arg in spec.args:
                type_name = _argument_type(argument_types, spec.name, arg)
                _el(arguments, "Argument", name=arg.name, argumentTypeRef=type_name,
                    shortDescription=arg.description or None)
    return root


def to_xtce(dictionary: Dictionary, name: str = "ILRS") -> str:
    root = build_xtce(dictionary, name)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
