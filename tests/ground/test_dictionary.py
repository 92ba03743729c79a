"""The ground's dictionary: argument parsing and checks, limits, event text, Markdown and XTCE export."""

from __future__ import annotations

import importlib.resources
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from ground.dictionary import ArgSpec, ArgumentError, Dictionary, DictionaryError
from ground.xtce import XTCE_NAMESPACE, to_xtce

NS = {"x": XTCE_NAMESPACE}


def test_commands_parse_by_name_or_position(dictionary: Dictionary) -> None:
    mode_set = dictionary.command("mode_set")
    assert mode_set.parse(["mode=nominal"]) == ["NOMINAL"]
    assert mode_set.parse(["SAFE"]) == ["SAFE"]
    assert dictionary.command("EVENT_LOG_DUMP").parse(["last=0x10"]) == [16]
    assert dictionary.command("NOOP").parse([]) == []


@pytest.mark.parametrize(("name", "words", "message"), [
    ("MODE_SET", ["mode=LANDED"], "mode: 'LANDED' is not one of SAFE, NOMINAL"),
    ("MODE_SET", [], "MODE_SET needs mode (usage: MODE_SET mode=<SAFE|NOMINAL>)"),
    ("MODE_SET", ["mode=SAFE", "extra"], "MODE_SET takes 1 arguments; 'extra' is one too many"),
    ("MODE_SET", ["speed=3"], "MODE_SET has no argument 'speed' (arguments: mode)"),
    ("EVENT_LOG_DUMP", ["last=9999"], "last: 9999 is above the maximum 512"),
    ("EVENT_LOG_DUMP", ["last=-1"], "last: -1 does not fit in u16 (0..65535)"),
    ("EVENT_LOG_DUMP", ["last=ten"], "last: expected an integer (u16), got 'ten'"),
    ("ARM", ["opcode=70000"], "opcode: 70000 does not fit in u16 (0..65535)"),
])
def test_bad_arguments_name_the_problem(dictionary: Dictionary, name: str, words: list[str], message: str) -> None:
    with pytest.raises(ArgumentError) as error:
        dictionary.command(name).parse(words)
    assert str(error.value) == message


def test_unknown_command_suggests_close_names(dictionary: Dictionary) -> None:
    with pytest.raises(ArgumentError, match=r"unknown command 'LOG'.*EVENT_LOG_CLEAR, EVENT_LOG_DUMP"):
        dictionary.command("LOG")


@pytest.mark.parametrize(("spec", "text", "value"), [
    (ArgSpec("a", "f32", min=-1.0, max=1.0), "0.5", 0.5),
    (ArgSpec("a", "bool"), "yes", True),
    (ArgSpec("a", "bool"), "off", False),
    (ArgSpec("a", "i8"), "-128", -128),
    (ArgSpec("a", "bytes", max_length=4), "0xdeadbeef", b"\xde\xad\xbe\xef"),
    (ArgSpec("a", "str", max_length=3), "abc", "abc"),
])
def test_argument_types(spec: ArgSpec, text: str, value: object) -> None:
    assert spec.parse(text) == value


@pytest.mark.parametrize(("spec", "text"), [
    (ArgSpec("a", "f32", min=-1.0, max=1.0), "1.5"),
    (ArgSpec("a", "f64"), "nan"),
    (ArgSpec("a", "bool"), "maybe"),
    (ArgSpec("a", "i8"), "128"),
    (ArgSpec("a", "bytes", max_length=2), "010203"),
    (ArgSpec("a", "str", max_length=3), "abcd"),
])
def test_argument_types_refuse(spec: ArgSpec, text: str) -> None:
    with pytest.raises(ArgumentError):
        spec.parse(text)


def test_an_enum_goes_by_name_from_the_ground(dictionary: Dictionary) -> None:
    with pytest.raises(ArgumentError, match="mode: 1 is not one of SAFE, NOMINAL"):
        dictionary.command("MODE_SET").build({"mode": 1})


def test_the_dictionary_needs_only_the_packet_layer() -> None:
    # The ground checks arguments with the flight's code, but must not pull in the flight executive.
    probe = "import sys, ground.dictionary; print(*(m for m in sys.modules if m.startswith('fsw.')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert "fsw.protocol.arguments" in loaded
    assert [name for name in loaded if not name.startswith("fsw.protocol")] == []


def test_limits_and_units(dictionary: Dictionary) -> None:
    jitter = dictionary.point("fast_jitter_p99_ms")
    assert [jitter.limit_state(v) for v in (0.5, 6.0, 11.0)] == ["ok", "yellow", "red"]  # 20 ms period
    assert jitter.format(0.25) == "0.25 ms"
    assert dictionary.point("mode").limit_state("SAFE") == "ok"
    assert dictionary.point("tasks_stalled").limit_state(1) == "red"


def test_event_text_from_templates(dictionary: Dictionary) -> None:
    assert dictionary.event_text(0x0401, {"old": "SAFE", "new": "NOMINAL", "reason": "commanded"}) == (
        "MODE_CHANGED", "mode SAFE -> NOMINAL (commanded)")
    name, text = dictionary.event_text(0x0401, {"old": "SAFE"})  # a missing argument still prints
    assert name == "MODE_CHANGED" and "SAFE" in text
    assert dictionary.event_text(0xBEEF, {"x": 1}) == ("EVENT_0xBEEF", "{'x': 1}")


def test_new_entries_are_picked_up_without_code_changes(dictionary_path: Path, tmp_path: Path) -> None:
    data = json.loads(dictionary_path.read_text())
    data["commands"].append({"name": "DRILL_START", "opcode": 0x0901, "critical": True, "modes": ["NOMINAL"],
                             "args": [{"name": "depth_m", "type": "f32", "min": 0.0, "max": 2.5, "unit": "m"}]})
    data["telemetry"].append({"name": "drill_depth_m", "type": "f32", "unit": "m", "structure": 9,
                              "red": [None, 2.4]})
    data["structures"]["9"] = "drill"
    (tmp_path / "d.json").write_text(json.dumps(data))
    extended = Dictionary.load(tmp_path / "d.json")
    assert extended.command("DRILL_START").parse(["depth_m=1.2"]) == [1.2]
    assert extended.command("DRILL_START").critical
    assert extended.point("drill_depth_m").limit_state(2.45) == "red"
    assert [p.name for p in extended.points_in(9)] == ["drill_depth_m"]
    assert "`DRILL_START`" in extended.to_markdown()


def test_missing_dictionary_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DictionaryError, match="ilrs-fsw dictionary --format json"):
        Dictionary.load(tmp_path / "absent.json")


def test_xtce_has_every_command_and_point(dictionary: Dictionary) -> None:
    root = ET.fromstring(to_xtce(dictionary).encode())
    assert root.tag == f"{{{XTCE_NAMESPACE}}}SpaceSystem"
    commands = {m.get("name") for m in root.iterfind("x:CommandMetaData/x:MetaCommandSet/x:MetaCommand", NS)}
    assert commands == set(dictionary.commands)
    parameters = root.findall("x:TelemetryMetaData/x:ParameterSet/x:Parameter", NS)
    assert {p.get("name") for p in parameters} == set(dictionary.points)
    types = {t.get("name"): t for t in root.find("x:TelemetryMetaData/x:ParameterTypeSet", NS)}
    for parameter in parameters:
        assert parameter.get("parameterTypeRef") in types
    mode_type = types["mode_type"]
    assert mode_type.tag.endswith("EnumeratedParameterType")
    assert [e.get("label") for e in mode_type.iterfind("x:EnumerationList/x:Enumeration", NS)] == [
        "BOOT", "SAFE", "NOMINAL"]
    jitter = types["fast_jitter_p99_ms_type"]
    assert jitter.find("x:UnitSet/x:Unit", NS).text == "ms"
    assert jitter.find("x:DefaultAlarm/x:StaticAlarmRanges/x:CriticalRange", NS).get("maxInclusive") == "10.0"
    dump = root.find("x:CommandMetaData/x:MetaCommandSet/x:MetaCommand[@name='EVENT_LOG_DUMP']", NS)
    argument = dump.find("x:ArgumentList/x:Argument", NS)
    assert argument.get("name") == "last"
    arg_type = root.find(f"x:CommandMetaData/x:ArgumentTypeSet/*[@name='{argument.get('argumentTypeRef')}']", NS)
    assert arg_type.find("x:ValidRangeSet/x:ValidRange", NS).get("maxInclusive") == "512"


def test_xtce_validates_against_the_xtce_1_2_schema(dictionary: Dictionary) -> None:
    # The OMG schema (dtc/18-02-04) as shipped by xtce-lib, a test dependency.
    schema = xmlschema.XMLSchema(str(importlib.resources.files("xtce_lib") / "xsd" / "dtc-18-02-04.xsd"))
    assert schema.target_namespace == XTCE_NAMESPACE
    errors = [f"{error.path}: {error.reason}" for error in schema.iter_errors(to_xtce(dictionary))]
    assert errors == []


def test_string_types_are_bounded_by_their_declared_length(dictionary: Dictionary) -> None:
    root = ET.fromstring(to_xtce(dictionary).encode())
    bounded = [(command, arg) for command in dictionary.commands.values() for arg in command.args
               if arg.type == "str" and arg.max_length]
    assert bounded, "some string argument declares a maximum length"
    command, arg = bounded[0]
    encoding = root.find(f"x:CommandMetaData/x:ArgumentTypeSet/x:StringArgumentType[@name='{command.name}_{arg.name}"
                         "_type']/x:StringDataEncoding", NS)
    assert encoding.find("x:SizeInBits/x:Fixed/x:FixedValue", NS).text == str(8 * arg.max_length)
    assert encoding.find("x:SizeInBits/x:LeadingSize", NS) is not None


def test_the_whole_console_needs_only_the_packet_and_link_layers() -> None:
    # The ground station shares the packet codec (file PDUs included) and the serial link with the
    # vehicle, nothing of the flight software itself.
    modules = ("ground.cli, ground.console, ground.filetransfer, ground.session, ground.server, ground.remote, "
               "ground.web, ground.procedures.mission")
    probe = f"import sys, {modules}; print(*(m for m in sys.modules if m.startswith('fsw.')))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert "fsw.protocol.file_pdu" in loaded
    assert [name for name in loaded if not name.startswith(("fsw.protocol", "fsw.link"))] == []


def test_onboard_time_points_are_shown_as_utc(dictionary: Dictionary) -> None:
    # TAI seconds since 1958 (the CUC epoch): 2027-01-15T08:00:00Z is 2178691237 s (TAI-UTC = 37 s).
    assert dictionary.point("onboard_time").format(2178691237.0) == "2027-01-15T08:00:00.000Z"
