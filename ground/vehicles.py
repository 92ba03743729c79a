"""The vehicles the ground addresses, by name or by APID, each with its own dictionary.

The lander is the vehicle on the link; the rover (``ilrs-fsw dictionary --vehicle rover``) is reached
through the lander's relay under its own APID. A command is addressed to a vehicle by prefixing its
name: ``rover:MODE_SET mode=NOMINAL``; a bare command goes to the vehicle on the link.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .dictionary import DEFAULT_DICTIONARY, REPOSITORY_ROOT, ArgumentError, Dictionary, suggestion

DEFAULT_ROVER_DICTIONARY = REPOSITORY_ROOT / "docs" / "dictionary-rover.json"
LANDER = "lander"
ROVER = "rover"
# The vehicles known by default, and where their dictionaries are (the lander's may be replaced
# with --dictionary, the rover's with --rover-dictionary).
DEFAULT_DICTIONARIES = {LANDER: DEFAULT_DICTIONARY, ROVER: DEFAULT_ROVER_DICTIONARY}
SEPARATOR = ":"


class UnknownVehicleError(ArgumentError):
    """A vehicle name or APID the ground does not know; the message lists close names."""


@dataclass(frozen=True)
class Vehicle:
    name: str
    dictionary: Dictionary

    @property
    def apid(self) -> int:
        return self.dictionary.apid


def unknown_vehicle(name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    listed = " (vehicles: " + ", ".join(names) + ")"
    return f"unknown vehicle {name!r}{suggestion(name.lower(), names) or listed}"


class VehicleRegistry:
    """Name -> APID and dictionary. The first vehicle is the one on the link (the lander)."""

    def __init__(self, vehicles: Iterable[Vehicle]) -> None:
        self.vehicles = {vehicle.name: vehicle for vehicle in vehicles}
        if not self.vehicles:
            raise ValueError("a vehicle registry needs at least the vehicle on the link")
        apids = [vehicle.apid for vehicle in self.vehicles.values()]
        if len(set(apids)) != len(apids):
            raise ValueError(f"two vehicles share an APID: {apids}")

    @classmethod
    def default(cls, lander: Dictionary | None = None, rover: str | Path | None = None) -> VehicleRegistry:
        """The lander (this dictionary, else the repository's) and the rover (its dictionary file,
        if there is one: without it the ground knows only the lander)."""
        vehicles = [Vehicle(LANDER, lander if lander is not None else Dictionary.load())]
        rover_path = Path(rover) if rover is not None else DEFAULT_ROVER_DICTIONARY
        if rover is not None or rover_path.exists():
            vehicles.append(Vehicle(ROVER, Dictionary.load(rover_path)))
        return cls(vehicles)

    @property
    def own(self) -> Vehicle:
        """The vehicle on the link."""
        return next(iter(self.vehicles.values()))

    @property
    def relayed(self) -> list[Vehicle]:
        """The vehicles reached through the one on the link."""
        return list(self.vehicles.values())[1:]

    def names(self) -> list[str]:
        return list(self.vehicles)

    def apids(self) -> dict[str, int]:
        return {name: vehicle.apid for name, vehicle in self.vehicles.items()}

    def get(self, target: str | int) -> Vehicle:
        """A vehicle by name (any case) or APID (a number, or its text)."""
        if isinstance(target, int) or (isinstance(target, str) and target.strip().isdigit()):
            apid = int(target)
            found = next((v for v in self.vehicles.values() if v.apid == apid), None)
            if found is None:
                known = ", ".join(f"{v.name}={v.apid}" for v in self.vehicles.values())
                raise UnknownVehicleError(f"no vehicle has APID {apid} (vehicles: {known})")
            return found
        vehicle = self.vehicles.get(target) or self.vehicles.get(target.lower())
        if vehicle is None:
            raise UnknownVehicleError(unknown_vehicle(target, self.vehicles))
        return vehicle

    def by_apid(self, apid: int) -> Vehicle | None:
        return next((v for v in self.vehicles.values() if v.apid == apid), None)

    def split(self, qualified: str) -> tuple[Vehicle, str]:
        """``rover:MODE_SET`` -> (the rover, ``MODE_SET``); a bare name is the own vehicle's."""
        if SEPARATOR not in qualified:
            return self.own, qualified
        name, command = qualified.split(SEPARATOR, 1)
        return self.get(name), command


def split_vehicle_name(qualified: str) -> tuple[str | None, str]:
    """``rover:PING`` -> (``rover``, ``PING``); ``PING`` -> (None, ``PING``)."""
    if SEPARATOR not in qualified:
        return None, qualified
    name, command = qualified.split(SEPARATOR, 1)
    return name, command


def qualified_command(text: str) -> str:
    """argparse type of a ``[VEHICLE:]COMMAND`` word: an unknown vehicle is a usage error with close
    names (the command itself is checked against that vehicle's dictionary afterwards)."""
    name, command = split_vehicle_name(text)
    if name is not None and name.lower() not in DEFAULT_DICTIONARIES and not name.isdigit():
        raise argparse.ArgumentTypeError(unknown_vehicle(name, DEFAULT_DICTIONARIES))
    if not command:
        raise argparse.ArgumentTypeError(f"{text!r} names no command (e.g. rover:MODE_SET)")
    return text
