"""Modes: BOOT -> SAFE -> NOMINAL, plus a CRITICAL flag while an irreversible sequence runs.

SAFE is entered in two ways, told apart by their event (PUS 5 subtypes differ by severity, so each
severity has its own event id): *commanded* by the ground (a TC from the link, or a time-tagged one
the ground scheduled), ``SAFE_COMMANDED`` (MEDIUM); *autonomous*, decided on board (a fault in a
mission machine, a boot after a fault, a MODE_SET SAFE sent by an event-action or a sequence),
``SAFE_ENTERED`` (HIGH). Only a MODE_SET NOMINAL from the ground itself leaves SAFE: one sent by an
event-action, a sequence or the time-based schedule is refused (WRONG_MODE), so that no on-board
automation, and no time-tag loaded before the fault, takes the vehicle out of SAFE unseen.
"""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import GROUND, Context
from fsw.core.declarations import MODES, Arg, EventDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed, CommandRejected
from fsw.protocol.errors import FailureCode

STORE_KEY = "mode"
# Origins of a MODE_SET SAFE that count as the ground's decision: the link, and the ground's time-tags.
COMMANDED_ORIGINS = frozenset({GROUND, "schedule"})


class ModeManager(Component):
    name = "modes"
    reported_in = 1
    telemetry = (
        TelemetryDef("mode", "enum", "", "executive mode", enum=MODES),
        TelemetryDef("critical", "bool", "", "an irreversible sequence is running"),
        TelemetryDef("safe_entries", "u16", "", "times SAFE was entered since boot"),
    )
    events = (
        EventDef(0x0401, "MODE_CHANGED", Severity.LOW, "mode {old} -> {new} ({reason})"),
        EventDef(0x0402, "SAFE_ENTERED", Severity.HIGH, "entered SAFE: {reason}"),
        EventDef(0x0403, "CRITICAL_SEQUENCE", Severity.MEDIUM, "critical sequence {name} {state}"),
        EventDef(0x0404, "SAFE_COMMANDED", Severity.MEDIUM, "entered SAFE by command from the {origin}"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.mode = "BOOT"
        self.critical_sequences: set[str] = set()
        self.safe_entries = 0

    @property
    def critical(self) -> bool:
        return bool(self.critical_sequences)

    def boot_complete(self, force_safe_reason: str | None) -> None:
        """Leave BOOT: the mode persisted before the reset, or SAFE on first boot or on a fault."""
        stored = self.ctx.store.get(STORE_KEY)
        if force_safe_reason:
            self.enter_safe(force_safe_reason)
        elif stored in ("SAFE", "NOMINAL"):
            self._change(stored, "restored after restart")
        else:
            self._change("SAFE", "first boot")

    def _change(self, new: str, reason: str) -> None:
        old = self.mode
        if new == old:
            return
        self.mode = new
        self.ctx.store.put(STORE_KEY, new)
        self.emit("MODE_CHANGED", old=old, new=new, reason=reason)
        self.ctx.bus.publish("mode", new)

    def enter_safe(self, reason: str) -> None:
        """Fault handling forces SAFE from anywhere (autonomous: HIGH)."""
        self.safe_entries += 1
        self.emit("SAFE_ENTERED", reason=reason)
        self._change("SAFE", reason)

    def begin_critical(self, name: str) -> None:
        self.critical_sequences.add(name)
        self.emit("CRITICAL_SEQUENCE", name=name, state="started")

    def end_critical(self, name: str) -> None:
        self.critical_sequences.discard(name)
        self.emit("CRITICAL_SEQUENCE", name=name, state="ended")

    def housekeeping(self) -> dict[str, Any]:
        return {"mode": self.mode, "critical": self.critical, "safe_entries": self.safe_entries}

    @command(0x0101, Arg("mode", "enum", "target mode", enum=("SAFE", "NOMINAL")))
    def cmd_mode_set(self, mode: str, origin: str = GROUND) -> None:
        """Command the executive mode (only a MODE_SET NOMINAL from the ground leaves SAFE)."""
        if mode == "SAFE":
            if origin in COMMANDED_ORIGINS:
                self.safe_entries += 1
                self.emit("SAFE_COMMANDED", origin=origin)
                self._change("SAFE", "commanded")
            else:
                self.enter_safe(f"MODE_SET SAFE from the {origin}")
            return
        if self.mode == "SAFE" and origin != GROUND:
            raise CommandFailed(FailureCode.WRONG_MODE, f"only a ground TC leaves SAFE, not one from the {origin}")
        if self.critical:
            raise CommandRejected(FailureCode.BUSY, "a critical sequence is running")
        self._change("NOMINAL", "commanded")
