"""What a component is given: the typed context.

A component sees the clock, the store, the software bus, the telemetry output, the rate groups,
the health monitor, the task supervisor, the latches and the command keys, all owned by the executive, and four roles
that standard services play: events, parameters, modes and commands. It never reaches into another
component's attributes, and it never holds the executive.

The roles are connected once by the topology (``fsw.topology``), after the services that play them
are built, because those services are components themselves and get the same context: as in F Prime,
components are constructed first and wired after. Using a role before it is connected raises
:class:`NotConnected`, which the topology's own tests exercise at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from fsw.clock import Clock
from fsw.core.bus import SoftwareBus
from fsw.core.health import HealthMonitor
from fsw.core.latches import Latches
from fsw.core.rategroup import RateGroup
from fsw.core.store import Store
from fsw.core.tasks import TaskSupervisor
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.protocol.security import KeyRing


class EventSink(Protocol):
    def emit(self, event: str, /, **args: Any) -> None: ...


class ParameterSource(Protocol):
    def get(self, name: str) -> Any: ...


class ModeControl(Protocol):
    @property
    def mode(self) -> str: ...
    @property
    def critical(self) -> bool: ...
    def boot_complete(self, force_safe_reason: str | None) -> None: ...
    def enter_safe(self, reason: str) -> None: ...
    def begin_critical(self, name: str) -> None: ...
    def end_critical(self, name: str) -> None: ...


# Who submitted a TC: the ground (through the link, or a test standing in for it), or an on-board
# submitter, by its name: "schedule" (PUS 11), "sequence", "event-action" (PUS 19), "safing".
GROUND = "ground"


class CommandSink(Protocol):
    def submit(self, tc: PusTc, raw: bytes | None = None, origin: str = GROUND) -> bool:
        """Take a TC: verdict now, execution as its own task; True if accepted. ``origin``: "ground",
        or the on-board submitter's name ("schedule", "sequence", "event-action", "safing")."""

    def refuse(self, tc: PusTc, raw: bytes, code: FailureCode, detail: str = "") -> None:
        """Refuse a TC that failed a check before dispatch (authentication, sequence)."""

    def reject(self, tc: PusTc, code: FailureCode, detail: str = "") -> None:
        """Answer a request with an acceptance failure (nothing is executed)."""

    def resend_if_duplicate(self, tc: PusTc, raw: bytes) -> bool:
        """A retransmission of a TC already taken gets its verification again; True if it was one."""


class TelemetryOut(Protocol):
    apid: int
    max_packet_size: int

    def send(self, service: int, subtype: int, value: Any) -> None: ...
    def send_raw(self, service: int, subtype: int, source_data: bytes, apid: int | None = None) -> None: ...
    def add_sink(self, sink: Callable[[bytes], None]) -> None: ...


class Dormancy(Protocol):
    @property
    def dormant(self) -> bool: ...
    def set_dormant(self, dormant: bool) -> None: ...


class NotConnected(RuntimeError):
    pass


Role = TypeVar("Role")


class Context:
    """Everything a component may use. Built by the executive; its roles connected by the topology."""

    def __init__(self, *, clock: Clock, store: Store, bus: SoftwareBus, telemetry: TelemetryOut,
                 rate_groups: Mapping[str, RateGroup], health: HealthMonitor, latches: Latches,
                 dormancy: Dormancy, keys: KeyRing | None, tasks: TaskSupervisor) -> None:
        self.clock = clock
        self.store = store
        self.bus = bus
        self.telemetry = telemetry
        self.rate_groups = rate_groups
        self.health = health
        self.latches = latches
        self.dormancy = dormancy
        self.keys = keys
        self.tasks = tasks  # long-lived tasks go through it: a task that dies is reported and restarted
        self._events: EventSink | None = None
        self._parameters: ParameterSource | None = None
        self._modes: ModeControl | None = None
        self._commands: CommandSink | None = None

    def connect(self, *, events: EventSink, parameters: ParameterSource, modes: ModeControl,
                commands: CommandSink) -> None:
        if self._events is not None:
            raise RuntimeError("the context's roles are connected once")
        self._events, self._parameters, self._modes, self._commands = events, parameters, modes, commands

    @property
    def connected(self) -> bool:
        return self._events is not None

    @property
    def events(self) -> EventSink:
        return _required(self._events, "events")

    @property
    def parameters(self) -> ParameterSource:
        return _required(self._parameters, "parameters")

    @property
    def modes(self) -> ModeControl:
        return _required(self._modes, "modes")

    @property
    def commands(self) -> CommandSink:
        return _required(self._commands, "commands")


def _required(role: Role | None, name: str) -> Role:
    if role is None:
        raise NotConnected(f"no component plays the {name} role: the topology did not connect it")
    return role
