"""Components: a start/stop lifecycle, declarations in one place, and a typed context."""

from __future__ import annotations

import inspect
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from .declarations import CommandDef, EventDef, ParameterDef, SafingStep, TelemetryDef

if TYPE_CHECKING:
    from .context import Context


class Component:
    """Base class of everything the executive runs.

    Subclasses declare ``name``, ``telemetry``, ``events`` and ``parameters`` as class attributes
    and mark command handlers with :func:`fsw.core.declarations.command`. ``hk_structure`` is the
    PUS 3 structure id of the component's housekeeping report (0: none).
    """

    name: ClassVar[str] = ""
    hk_structure: ClassVar[int] = 0
    hk_period_s: ClassVar[float] = 1.0
    # Nothing to watch in a powered flight (a payload, a surface machine): its report then comes at
    # most every ``hk_flight_quiet_period_s`` (fsw.services.housekeeping).
    hk_quiet_in_flight: ClassVar[bool] = False
    # Structure whose report carries this component's points, when another component reports them.
    reported_in: ClassVar[int] = 0
    telemetry: ClassVar[tuple[TelemetryDef, ...]] = ()
    events: ClassVar[tuple[EventDef, ...]] = ()
    parameters: ClassVar[tuple[ParameterDef, ...]] = ()
    # Commands the safing response sends to this component on every entry into SAFE (see fsw/topology.py).
    safing: ClassVar[tuple[SafingStep, ...]] = ()

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.clock = ctx.clock

    # --- declarations ------------------------------------------------------------------------
    @classmethod
    def command_defs(cls) -> list[CommandDef]:
        found = []
        for _, member in inspect.getmembers(cls, predicate=inspect.isfunction):
            definition: CommandDef | None = getattr(member, "__command__", None)
            if definition is not None:
                found.append(definition)
        return sorted(found, key=lambda definition: definition.opcode)

    @classmethod
    def telemetry_defs(cls) -> list[TelemetryDef]:
        return [_owned(point, cls) for point in cls.telemetry]

    @classmethod
    def event_defs(cls) -> list[EventDef]:
        return [_owned(event, cls) for event in cls.events]

    @classmethod
    def parameter_defs(cls) -> list[ParameterDef]:
        return [_owned(parameter, cls) for parameter in cls.parameters]

    def safing_steps(self) -> tuple[SafingStep, ...]:
        """This component's part of the safing response (its ``safing`` declaration by default)."""
        return self.safing

    def bound_command_defs(self) -> list[CommandDef]:
        """Command definitions with the handler bound to this instance."""
        bound = []
        for definition in self.command_defs():
            method_name = next(
                name for name, member in inspect.getmembers(type(self), predicate=inspect.isfunction)
                if getattr(member, "__command__", None) is definition
            )
            bound.append(_replace(definition, component=self.name, handler=getattr(self, method_name),
                                  refusal=partial(self.command_refusal, definition.name)))
        return bound

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Called once, in wiring order, before rate groups start."""

    async def stop(self) -> None:
        """Called once on shutdown, in reverse wiring order."""

    def housekeeping(self) -> dict[str, Any]:
        """Current values of this component's telemetry points."""
        return {}

    def command_refusal(self, name: str) -> str | None:
        """Why command ``name`` cannot be taken in this component's present state, or None. Asked
        when the command is accepted, so a command for another state is refused (1,2 WRONG_STATE)
        before anything starts."""
        return None

    def dormancy_changed(self, dormant: bool) -> None:
        """The executive entered or left a quiet phase (its fast rate group stopped or restarted)."""

    # --- conveniences ------------------------------------------------------------------------
    def emit(self, event: str, /, **args: Any) -> None:
        self.ctx.events.emit(event, **args)

    def param(self, name: str) -> Any:
        return self.ctx.parameters.get(name)


def _owned(definition: Any, cls: type[Component]) -> Any:
    changes: dict[str, Any] = {"component": cls.name}
    if isinstance(definition, TelemetryDef):
        changes["structure"] = cls.reported_in or cls.hk_structure
    return _replace(definition, **changes)


def _replace(definition: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(definition, **changes)
