"""The vehicles the console shows: the one on the link and those it relays (the rover), each with
its own dictionary, latest values and telemetry pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..dictionary import ArgumentError, CommandSpec, Dictionary
from ..telemetry import Received, TelemetryState
from ..vehicles import UnknownVehicleError, split_vehicle_name, unknown_vehicle
from .completion import parse_line
from .status import Freshness


@dataclass
class VehicleView:
    name: str
    dictionary: Dictionary
    state: TelemetryState
    relayed: bool = False
    freshness: Freshness = field(default_factory=Freshness)

    @property
    def sids(self) -> list[int]:
        return sorted(self.dictionary.structures)

    def table_id(self, sid: int) -> str:
        """The page's widget id: the lander's pages keep their plain ids (``tlm-40``)."""
        return f"tlm-{self.name}-{sid}" if self.relayed else f"tlm-{sid}"

    def pages(self) -> list[tuple[int, str]]:
        return [(sid, self.dictionary.structure_name(sid)) for sid in self.sids]


def vehicle_views(session: Any) -> list[VehicleView]:
    """The session's own vehicle first, then each vehicle it relays (a session attached to a server
    or replaying an archive shows its one vehicle)."""
    vehicles = getattr(session, "vehicles", None)
    own_name = vehicles.own.name if vehicles is not None else session.vehicle
    views = [VehicleView(own_name, session.dictionary, session.state, freshness=Freshness(session.link_delay))]
    for relayed in getattr(session, "relayed", {}).values():
        views.append(VehicleView(relayed.name, relayed.vehicle.dictionary, relayed.state, relayed=True,
                                 freshness=Freshness(session.link_delay)))
    return views


def addressed_dictionary(session: Any, target: str) -> Dictionary:
    """The dictionary of the vehicle a command is addressed to (``rover:``; ``""``: the link's)."""
    if not target:
        return session.dictionary
    vehicles = getattr(session, "vehicles", None)
    if vehicles is None:
        raise ArgumentError(f"this session addresses only {session.vehicle} (a replay commands nothing)")
    return vehicles.get(target.rstrip(":")).dictionary


def parse_addressed(session: Any, line: str) -> tuple[str, CommandSpec, list[Any]]:
    """(``rover:`` or ``""``, the command, its checked values): ``rover:NAME ...`` is the rover's
    command, checked with the rover's dictionary."""
    first, _, rest = line.strip().partition(" ")
    vehicle, name = split_vehicle_name(first)
    if vehicle is None:
        return "", *parse_line(session.dictionary, line)
    target = f"{vehicle.lower()}:"
    return target, *parse_line(addressed_dictionary(session, target), f"{name} {rest}")


def snapshot(session: Any) -> list[Received]:
    """The newest values and recent events already in the session (so an attached console starts full)."""
    newest: dict[int, Received] = {}
    for name, sample in session.state.latest.items():
        spec = session.dictionary.points.get(name)
        if spec is None:
            continue
        packet = newest.setdefault(spec.structure, Received(sample.rx_time, b"", "hk", onboard_time=sample.onboard_time,
                                                            decoded={"sid": spec.structure, "values": {}}))
        packet.decoded["values"][name] = sample.value
    events = list(getattr(session, "recent_events", ()))
    return sorted([*newest.values(), *events], key=lambda r: r.rx_time)


def addressed_point(views: list[VehicleView], text: str) -> tuple[VehicleView, str]:
    """``rover:rsurv_battery_soc`` -> (the rover's view, the point); a bare name is the vehicle on the
    link's (``UnknownVehicleError`` for a vehicle the console does not show)."""
    vehicle, point = split_vehicle_name(text)
    if vehicle is None:
        return views[0], point
    view = next((view for view in views if view.name == vehicle.lower()), None)
    if view is None:
        raise UnknownVehicleError(unknown_vehicle(vehicle, [view.name for view in views]))
    return view, point
