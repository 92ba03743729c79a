"""A mission state machine as a component: states and transitions as data, built on ``transitions``.

Each machine declares a :class:`MachineSpec`. The component builds an ``AsyncMachine`` from it and adds
what flight needs around it:

* a timeout on every non-final state, run on the flight clock (deadlines in on-board time, so that a
  restart keeps the original deadline rather than granting a fresh one);
* an *activity* per state (``async def do_<state>(self)``) started on entry as its own task and
  cancelled on exit; activities end by firing a trigger;
* a *dwell* per state (a planned wait, e.g. six days in lunar orbit) that fires ``dwell_trigger``
  when it elapses: one timer, no polling, so quiet phases cost no wall time on the afap clock;
* go/no-go states that wait for a ground command, or pass at once when the ``auto_go`` parameter
  is set;
* an event for every transition (from, to, trigger), the state in housekeeping, and the state
  persisted in the store so that a restart resumes the phase.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from transitions.extensions.asyncio import AsyncMachine

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, Severity, TelemetryDef
from fsw.core.errors import CommandStartFailed
from fsw.devices.bus import DeviceBusError
from fsw.protocol.errors import FailureCode

log = logging.getLogger("fsw.mission")

STORE_PREFIX = "mission."
AUTO_GO = "auto_go"
GROUND_HOLD = "ground_hold"


@dataclass(frozen=True)
class StateSpec:
    name: str
    description: str
    timeout_s: float | None = None  # None only for final states
    timeout_trigger: str = "abort"  # every machine's safing transition, unless the state says otherwise
    dwell_s: float | str | None = None  # seconds, or the name of a parameter giving them
    dwell_trigger: str = "dwell_over"
    go_command: str | None = None  # the ground command that lets this state proceed (trigger "go")
    final: bool = False
    dormant: bool = False  # not started yet (waits for its parent): the only non-final state without timeout


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: str | tuple[str, ...]  # "*": every non-final state
    dest: str
    conditions: tuple[str, ...] = ()  # names of guard methods on the component
    description: str = ""


@dataclass(frozen=True)
class MachineSpec:
    name: str
    initial: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    safe_state: str = "safe"
    by_name: dict[str, StateSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name.update({state.name: state for state in self.states})
        for state in self.states:
            if not state.final and not state.dormant and state.timeout_s is None:
                raise ValueError(f"{self.name}.{state.name}: a non-final state needs a timeout")
        expanded = self.expanded_transitions()
        for transition in expanded:
            for end in (transition.source, transition.dest):
                if end not in self.by_name:
                    raise ValueError(f"{self.name}: transition {transition.trigger} names unknown state {end}")
        leaving = {(t.source, t.trigger) for t in expanded}
        for state in self.states:
            for limit, trigger in ((state.timeout_s, state.timeout_trigger), (state.dwell_s, state.dwell_trigger)):
                if limit is not None and (state.name, trigger) not in leaving:
                    raise ValueError(f"{self.name}.{state.name}: no transition {trigger!r} to take when it runs out")

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    def expanded_transitions(self) -> list[TransitionSpec]:
        """Transitions with one source each ("*" and tuples expanded), in declaration order."""
        expanded = []
        for transition in self.transitions:
            if transition.source == "*":
                sources: tuple[str, ...] = tuple(
                    s.name for s in self.states if not s.final and s.name != transition.dest
                )
            elif isinstance(transition.source, tuple):
                sources = transition.source
            else:
                sources = (transition.source,)
            for source in sources:
                expanded.append(TransitionSpec(transition.trigger, source, transition.dest, transition.conditions,
                                               transition.description))
        return expanded


def machine_events(prefix: str, base_id: int) -> tuple[EventDef, ...]:
    """The events every machine emits, named after the machine."""
    return (
        EventDef(base_id, f"{prefix}_TRANSITION", Severity.INFO, "{machine}: {source} -> {dest} on {trigger}"),
        EventDef(base_id + 1, f"{prefix}_RESUMED", Severity.MEDIUM, "{machine} resumed in {state} after restart"),
        EventDef(base_id + 2, f"{prefix}_SAFED", Severity.HIGH, "{machine} safed from {source}: {reason}"),
        EventDef(base_id + 3, f"{prefix}_TIMEOUT", Severity.MEDIUM, "{machine}: {state} timed out after {limit} s"),
    )


def machine_telemetry(spec: MachineSpec) -> tuple[TelemetryDef, ...]:
    return (
        TelemetryDef(f"{spec.name}_state", "enum", "", f"{spec.name} machine state", enum=spec.state_names),
        TelemetryDef(f"{spec.name}_state_age_s", "f64", "s", "time in the current state"),
        TelemetryDef(f"{spec.name}_transitions", "u32", "", "transitions since boot"),
        TelemetryDef(f"{spec.name}_awaiting_go", "bool", "", "waiting for a ground go command"),
    )


class _Model:
    """The object ``transitions`` decorates with its trigger methods (kept apart from the component)."""

    state: str

    if TYPE_CHECKING:  # added by ``transitions`` at run time
        async def trigger(self, trigger_name: str) -> bool: ...


class MissionMachine(Component):
    spec: ClassVar[MachineSpec]
    event_prefix: ClassVar[str]

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.model = _Model()
        self.machine = SerialAsyncMachine(
            model=self.model,
            states=list(self.spec.state_names),
            transitions=[
                {"trigger": t.trigger, "source": t.source, "dest": t.dest,
                 "conditions": [self._guard(name) for name in t.conditions]}
                for t in self.spec.expanded_transitions()
            ],
            initial=self.spec.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=True,
            after_state_change=self._after_state_change,
        )
        self.entered_at = self.clock.monotonic()
        self.transition_count = 0
        self.safe_reason = ""
        self.listeners: list[Callable[[str, str, str], None]] = []
        self._activity: asyncio.Task[None] | None = None
        self._timers: list[asyncio.Task[None]] = []
        self._detached: set[asyncio.Task[Any]] = set()  # triggers fired outside an activity or timer
        self._started = False
        self._waiters: list[asyncio.Future[None]] = []
        self._lock = asyncio.Lock()
        self._firing: asyncio.Task[Any] | None = None  # the task whose trigger is being processed
        self._holding_for_ground = False

    # --- helpers for subclasses --------------------------------------------------------------
    @property
    def state(self) -> str:
        return self.model.state

    @property
    def store_key(self) -> str:
        return STORE_PREFIX + self.spec.name

    def _guard(self, name: str) -> Callable[[Any], bool]:
        method = getattr(self, f"guard_{name}")
        return lambda _event: bool(method())

    async def fire(self, trigger: str, reason: str = "") -> bool:
        """Fire a trigger; False when the current state has no such transition or a guard refused."""
        if trigger not in self.machine.events:
            log.error("%s: no trigger %r", self.spec.name, trigger)
            return False
        if reason:
            self.safe_reason = reason
        # One trigger at a time: ``transitions`` would otherwise cancel a trigger still being processed.
        async with self._lock:
            before = self.state
            self._firing = asyncio.current_task()
            try:
                result = await self.model.trigger(trigger)
            finally:
                self._firing = None
            # A transition that happened counts as done even if a callback after it was interrupted.
            result = bool(result) or self.state != before
        if not result:
            log.info("%s: %s refused in %s", self.spec.name, trigger, before)
        return bool(result)

    def post(self, trigger: str, reason: str = "") -> None:
        """Fire a trigger from synchronous code (device callbacks, drivers)."""
        self._fire_detached(trigger, reason, "post")

    def _fire_detached(self, trigger: str, reason: str, kind: str) -> asyncio.Task[bool]:
        """Fire a trigger in a task of its own that :meth:`stop` cancels if it is still running."""
        task = _spawn(self.fire(trigger, reason), f"{self.spec.name}-{kind}")
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)
        return task

    async def safe(self, reason: str) -> bool:
        return await self.fire("abort", reason)

    def snapshot(self) -> dict[str, Any]:
        """Machine-specific values persisted with the state (override)."""
        return {}

    def restore_snapshot(self, values: dict[str, Any]) -> None:
        """Take back what :meth:`snapshot` saved (override)."""

    def persist(self) -> None:
        self.ctx.store.put(self.store_key, {
            "state": self.state, "entered": self.clock.onboard_time() - self.state_age(),
            "data": self.snapshot(),
        })

    def state_age(self) -> float:
        return self.clock.monotonic() - self.entered_at

    def dwell_seconds(self, state: StateSpec) -> float | None:
        if state.dwell_s is None:
            return None
        if isinstance(state.dwell_s, str):
            return float(self.param(state.dwell_s))
        return float(state.dwell_s)

    def awaiting_go(self) -> bool:
        return self.spec.by_name[self.state].go_command is not None

    def go_refusal(self, command_name: str) -> str | None:
        """Why this machine cannot take the go ``command_name`` now (None: it waits for it)."""
        if self.spec.by_name[self.state].go_command != command_name:
            return f"{self.spec.name} is in {self.state}, not awaiting {command_name}"
        return None

    def go(self, command_name: str) -> Any:
        """Handle a ground go command: accepted only in the state that waits for it."""
        refusal = self.go_refusal(command_name)
        if refusal is not None:
            raise CommandStartFailed(FailureCode.WRONG_STATE, refusal)
        return self.fire("go")

    # --- life cycle --------------------------------------------------------------------------
    async def start(self) -> None:
        saved = self.ctx.store.get(self.store_key)
        self._started = True
        if saved and saved.get("state") in self.spec.by_name:
            self.restore_snapshot(saved.get("data") or {})
            self.machine.set_state(saved["state"], model=self.model)
            self.entered_at = self.clock.to_monotonic(float(saved.get("entered", self.clock.onboard_time())))
            self.emit(f"{self.event_prefix}_RESUMED", machine=self.spec.name, state=self.state)
        else:
            self.entered_at = self.clock.monotonic()
            self.persist()
        self._enter_state(resumed=bool(saved))

    async def stop(self) -> None:
        """Cancel every task of this machine, the one firing a trigger included, and wait for them to end;
        whoever waits for a transition is cancelled too (there will be none)."""
        self._started = False
        self._release_ground_hold()
        current = asyncio.current_task()
        tasks = [task for task in (self._activity, *self._timers, *self._detached)
                 if task is not None and task is not current and not task.done()]
        self._activity = None
        self._timers = []
        for task in tasks:
            task.cancel()
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _release_ground_hold(self) -> None:
        if self._holding_for_ground:
            self._holding_for_ground = False
            self.clock.release_hold()

    def _cancel_tasks(self) -> None:
        self._release_ground_hold()
        # ``transitions`` runs callbacks in tasks of their own: the task that fired the trigger is
        # ``_firing``, not the current one, and must be left to finish its transition.
        spared = {asyncio.current_task(), self._firing}
        for task in [self._activity, *self._timers]:
            if task is not None and task not in spared and not task.done():
                task.cancel()
        self._activity = None
        self._timers = []

    async def _after_state_change(self, event: Any) -> None:
        source = event.transition.source
        dest = event.transition.dest
        trigger = event.event.name
        self.transition_count += 1
        self.entered_at = self.clock.monotonic()
        self.emit(f"{self.event_prefix}_TRANSITION", machine=self.spec.name, source=source, dest=dest,
                  trigger=trigger)
        self.ctx.bus.publish("mission.state", (self.spec.name, dest))
        if dest == self.spec.safe_state:
            reason = self.safe_reason or trigger
            self.emit(f"{self.event_prefix}_SAFED", machine=self.spec.name, source=source, reason=reason)
            self.on_safe(source, reason)
        self.safe_reason = ""
        self.persist()
        self._cancel_tasks()
        if self._started:
            self._enter_state(resumed=False)
        for listener in list(self.listeners):
            listener(source, dest, trigger)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def changed(self) -> None:
        """Wait for the next transition."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def reached(self, state: str) -> bool:
        """The machine is at ``state`` or past it along the declared (nominal) order, and not safed."""
        names = self.spec.state_names
        return self.state != self.spec.safe_state and names.index(self.state) >= names.index(state)

    async def begin(self) -> None:
        """Start the sequence if it has not started yet (a parent calls this on entering its phase)."""
        if self.spec.by_name[self.state].dormant:
            await self.fire("begin")

    async def run_child(self, child: MissionMachine, done_state: str, trigger: str) -> None:
        """Delegate this state to a child machine: fire ``trigger`` once it reaches ``done_state``."""
        await child.begin()
        while True:
            if child.state == child.spec.safe_state:
                await self.safe(f"{child.spec.name} safed")
                return
            if child.reached(done_state):
                await self.fire(trigger)
                return
            await child.changed()

    def on_safe(self, source: str, reason: str) -> None:
        """Put the hardware in a safe configuration (override); the executive goes SAFE."""
        self.ctx.modes.enter_safe(f"{self.spec.name}: {reason}")

    def _enter_state(self, resumed: bool) -> None:
        state = self.spec.by_name[self.state]
        if state.timeout_s is not None:
            self._timers.append(_spawn(self._timeout(state), f"{self.spec.name}-timeout"))
        dwell = self.dwell_seconds(state)
        if dwell is not None:
            self._timers.append(_spawn(self._dwell(state, dwell), f"{self.spec.name}-dwell"))
        if state.go_command is not None and self.param(AUTO_GO):
            self._timers.append(_spawn(self.fire("go"), f"{self.spec.name}-auto-go"))
        elif state.go_command is not None and self.param(GROUND_HOLD) and self.clock.mode.kind == "afap":
            # Waiting for the ground is waiting for another process: virtual time must not run on.
            self.clock.acquire_hold()
            self._holding_for_ground = True
        activity = getattr(self, f"do_{state.name}", None)
        if activity is not None:
            self._activity = _spawn(self._run_activity(activity, resumed), f"{self.spec.name}-activity")

    async def _run_activity(self, activity: Callable[..., Any], resumed: bool) -> None:
        try:
            await activity(resumed) if _takes_resumed(activity) else await activity()
        except asyncio.CancelledError:
            raise
        except DeviceBusError as error:  # the devices do not answer: a reported fault, not a bug to trace
            log.warning("%s activity in %s failed: %s", self.spec.name, self.state, error)
            await self.safe(f"{type(error).__name__}: {error}")
        except Exception as error:  # a fault in a sequence safes the machine rather than killing it
            log.exception("%s activity in %s failed", self.spec.name, self.state)
            await self.safe(f"{type(error).__name__}: {error}")

    async def _timeout(self, state: StateSpec) -> None:
        assert state.timeout_s is not None
        remaining = state.timeout_s - self.state_age()
        await self.clock.sleep(remaining)
        if self.state == state.name:
            self.emit(f"{self.event_prefix}_TIMEOUT", machine=self.spec.name, state=state.name, limit=state.timeout_s)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._fire_detached(state.timeout_trigger, f"{state.name} timed out", "timeout"))

    async def _dwell(self, state: StateSpec, dwell: float) -> None:
        await self.clock.sleep(dwell - self.state_age())
        if self.state == state.name:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._fire_detached(state.dwell_trigger, "", "dwell"))

    def machine_housekeeping(self) -> dict[str, Any]:
        name = self.spec.name
        return {f"{name}_state": self.state, f"{name}_state_age_s": round(self.state_age(), 3),
                f"{name}_transitions": self.transition_count, f"{name}_awaiting_go": self.awaiting_go()}

    def housekeeping(self) -> dict[str, Any]:
        return self.machine_housekeeping()

    async def wait_for(self, predicate: Callable[[], bool], period_s: float, limit_s: float | None = None) -> bool:
        """Poll a measured condition on the flight clock; False if ``limit_s`` passed first."""
        start = self.clock.monotonic()
        while not predicate():
            if limit_s is not None and self.clock.monotonic() - start >= limit_s:
                return False
            await self.clock.sleep(period_s)
        return True


class SerialAsyncMachine(AsyncMachine):
    """``AsyncMachine`` without its cancellation of triggers it believes superseded: :meth:`fire`
    already lets one trigger through at a time, and a transition that has begun must finish (its
    entry actions start the next activity)."""

    async def cancel_running_transitions(self, model: Any, msg: str | None = None) -> None:
        return None

    async def process_context(self, func: Any, model: Any) -> Any:
        """The library takes any cancellation of the task processing a trigger for the supersession it
        no longer does, and returns False. The cancellation came from outside (a shutdown): keep it, or
        the task would go on, e.g. to wait for a transition that never comes."""
        task = asyncio.current_task()
        requested = task.cancelling() if task is not None else 0
        result = await super().process_context(func, model)
        if task is not None and task.cancelling() > requested:
            raise asyncio.CancelledError
        return result


def _spawn(coroutine: Any, name: str) -> asyncio.Task[Any]:
    """A task with a fresh context. A task made while ``transitions`` processes a trigger would
    otherwise inherit that trigger's context and be taken for part of it: its own triggers would not
    be tracked, and the library would cancel triggers it believes are superseded."""
    return asyncio.get_running_loop().create_task(coroutine, name=name, context=contextvars.Context())


def _takes_resumed(activity: Callable[..., Any]) -> bool:
    import inspect

    return "resumed" in inspect.signature(activity).parameters
