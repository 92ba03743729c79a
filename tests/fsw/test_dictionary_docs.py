"""The ICD tables and docs/dictionary.json are generated from the code; fail when they drift."""

import json
import subprocess
import sys
from pathlib import Path

from fsw.cli import icd_tables
from fsw.core.dictionary import ICD_BEGIN, ICD_END
from fsw.rover.topology import rover_dictionary_vehicle
from fsw.topology import dictionary_vehicle

DOCS = Path(__file__).resolve().parents[2] / "docs"
FIX = "regenerate with: ilrs-fsw dictionary --update-docs"


def test_icd_tables_match_the_dictionary() -> None:
    icd = (DOCS / "icd.md").read_text()
    region = icd.split(ICD_BEGIN, 1)[1].split(ICD_END, 1)[0]
    assert region.strip() == icd_tables(dictionary_vehicle(), rover_dictionary_vehicle()).strip(), FIX


def test_exported_rover_json_matches_its_dictionary() -> None:
    rover = rover_dictionary_vehicle()
    assert json.loads((DOCS / "dictionary-rover.json").read_text()) == rover.dictionary.to_dict(rover.apid), FIX


def test_exported_json_matches_the_dictionary() -> None:
    executive = dictionary_vehicle()
    assert json.loads((DOCS / "dictionary.json").read_text()) == executive.dictionary.to_dict(executive.apid), FIX


def test_dictionary_is_complete_and_consistent() -> None:
    data = dictionary_vehicle().dictionary.to_dict(100)
    for kind, key in (("commands", "opcode"), ("events", "id"), ("parameters", "id"), ("commands", "name"),
                      ("telemetry", "name"), ("events", "name"), ("parameters", "name")):
        values = [entry[key] for entry in data[kind]]
        assert len(values) == len(set(values)), f"duplicate {kind} {key}"
    assert {"NOOP", "ARM", "MODE_SET"} <= {c["name"] for c in data["commands"]}
    assert all(point["structure"] in map(int, data["structures"]) for point in data["telemetry"])


def test_the_rover_relay_s_housekeeping_and_events_are_in_the_lander_s_dictionary() -> None:
    # The lander flies with a relay whenever a rover does (make run): its structure and events must be
    # named for the ground, or the console shows "structure 66" and unnamed events.
    from fsw.services.relay import RoverRelay

    data = json.loads((DOCS / "dictionary.json").read_text())
    assert data["structures"][str(RoverRelay.hk_structure)] == RoverRelay.name
    assert {event.name for event in RoverRelay.events} <= {event["name"] for event in data["events"]}


def test_cli_exports_json_and_markdown() -> None:
    out = subprocess.run([sys.executable, "-m", "fsw.cli", "dictionary", "--format", "json"], capture_output=True,
                         text=True, check=True).stdout
    assert json.loads(out)["apid"] == 100
    markdown = subprocess.run([sys.executable, "-m", "fsw.cli", "dictionary", "--format", "markdown"],
                              capture_output=True, text=True, check=True).stdout
    assert "| 0x0002 | `NOOP` |" in markdown
