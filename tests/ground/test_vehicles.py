"""Vehicles by name or APID: the registry, the client's addressing and ``ilrs-ground send rover:NAME``
checked against the rover's dictionary before anything is opened."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.cli import build_parser, main
from ground.client import GroundClient
from ground.dictionary import ArgumentError, Dictionary
from ground.vehicles import UnknownVehicleError, Vehicle, VehicleRegistry


@pytest.fixture
def registry(dictionary: Dictionary, rover_dictionary: Dictionary) -> VehicleRegistry:
    return VehicleRegistry([Vehicle("lander", dictionary), Vehicle("rover", rover_dictionary)])


def test_vehicles_by_name_or_apid(registry: VehicleRegistry, dictionary: Dictionary,
                                  rover_dictionary: Dictionary) -> None:
    assert registry.apids() == {"lander": dictionary.apid, "rover": rover_dictionary.apid}
    assert rover_dictionary.apid == 120 and dictionary.apid != 120
    assert registry.get("rover").dictionary is rover_dictionary
    assert registry.get("ROVER").name == "rover"
    assert registry.get(120).name == "rover" and registry.get("120").name == "rover"
    assert registry.get(dictionary.apid).name == "lander"
    assert registry.own.name == "lander" and [v.name for v in registry.relayed] == ["rover"]
    rover, name = registry.split("rover:ROVER_GO")
    assert (rover.name, name) == ("rover", "ROVER_GO")
    lander, name = registry.split("NOOP")
    assert (lander.name, name) == ("lander", "NOOP")
    # The rover's commands are its dictionary's: the lander's GO_DESCENT is not one of them.
    rover.dictionary.command("ROVER_GO")
    with pytest.raises(ArgumentError, match="unknown command 'GO_DESCENT'"):
        rover.dictionary.command("GO_DESCENT")


def test_an_unknown_vehicle_is_refused_with_close_names(registry: VehicleRegistry, dictionary: Dictionary) -> None:
    with pytest.raises(UnknownVehicleError, match=r"unknown vehicle 'rovr' \(did you mean rover\?\)"):
        registry.get("rovr")
    with pytest.raises(UnknownVehicleError, match=r"unknown vehicle 'orbiter' \(vehicles: lander, rover\)"):
        registry.split("orbiter:NOOP")
    with pytest.raises(UnknownVehicleError, match=r"no vehicle has APID 121 \(vehicles: lander=100, rover=120\)"):
        registry.get(121)
    with pytest.raises(ValueError, match="share an APID"):
        VehicleRegistry([Vehicle("lander", dictionary), Vehicle("twin", dictionary)])


def test_the_client_addresses_a_vehicle_by_name_or_apid(registry: VehicleRegistry) -> None:
    client = GroundClient("/dev/null", vehicles=registry.apids())  # not opened: only addressing is looked at
    assert client.resolve(None) == 100
    assert client.resolve("rover") == 120 and client.resolve("Rover") == 120
    assert client.resolve(120) == 120 and client.resolve("120") == 120
    with pytest.raises(UnknownVehicleError, match=r"did you mean rover\?"):
        client.resolve("rovers")


def test_send_parses_a_vehicle_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["send", "rover:ROVER_WAYPOINT", "east_m=3", "north_m=4", "science=yes"])
    assert args.name == "rover:ROVER_WAYPOINT" and args.args == ["east_m=3", "north_m=4", "science=yes"]
    assert build_parser().parse_args(["send", "NOOP"]).name == "NOOP"
    for typed, message in (("rovr:NOOP", "unknown vehicle 'rovr' (did you mean rover?)"),
                           ("rover:", "'rover:' names no command")):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args(["send", typed])
        assert exit_.value.code == 2
        assert message in capsys.readouterr().err


@pytest.mark.parametrize(("typed", "message"), [
    (["rover:NOOPP"], "unknown command 'NOOPP' (did you mean NOOP?)"),
    (["rover:ROVER_WAYPOINT", "east_m=900", "north_m=0", "science=no"], "east_m"),
    (["ROVER_GO"], "unknown command 'ROVER_GO'"),  # the lander's dictionary: the rover's needs rover:
    (["121:NOOP"], "no vehicle has APID 121"),
    (["rover:ROVER_GO"], "send needs --port"),  # a good rover command: only the port is missing
    (["120:ROVER_HALT"], "send needs --port"),
])
def test_send_checks_a_rover_command_with_the_rover_dictionary_before_any_port(
        dictionary_path: Path, rover_dictionary_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, typed: list[str], message: str) -> None:
    monkeypatch.delenv("ILRS_GROUND_SERVER", raising=False)
    monkeypatch.setattr("ground.commands.common.default_socket", lambda: Path("/nonexistent/ilrs.sock"))
    code = main(["--dictionary", str(dictionary_path), "--rover-dictionary", str(rover_dictionary_path), "send",
                 *typed])
    assert code == 2
    assert message in capsys.readouterr().err
