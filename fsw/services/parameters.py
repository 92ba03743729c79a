"""PUS 20 on-board parameter management: report and set, validated, persisted across restart."""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import EventDef, ParameterDef, Severity, ValidationError
from fsw.core.errors import CommandRejected
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc

STORE_KEY = "parameters"


class ParameterService(Component):
    name = "params"
    events = (
        EventDef(0x0301, "PARAM_SET", Severity.INFO, "parameter {name} set to {value}"),
        EventDef(0x0302, "PARAM_RESTORE_REJECTED", Severity.MEDIUM,
                 "stored value of {name} rejected ({reason}); default kept"),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.by_id: dict[int, ParameterDef] = {}
        self.by_name: dict[str, ParameterDef] = {}
        self.values: dict[str, Any] = {}

    def register_component(self, component: Component) -> None:
        self.register(component.parameter_defs())

    def register(self, definitions: list[ParameterDef]) -> None:
        for definition in definitions:
            if definition.id in self.by_id or definition.name in self.by_name:
                raise ValueError(f"parameter {definition.name} ({definition.id}) declared twice")
            self.by_id[definition.id] = definition
            self.by_name[definition.name] = definition
            self.values[definition.name] = definition.default

    async def start(self) -> None:
        # Added right after the event service, so it restores before any other component starts.
        self.restore()

    def restore(self) -> None:
        """Load persisted values; a stored value that no longer validates keeps the default."""
        stored: dict[str, Any] = self.ctx.store.get(STORE_KEY, {}) or {}
        for name, value in stored.items():
            definition = self.by_name.get(name)
            if definition is None:
                continue
            try:
                self.values[name] = definition.validate(value)
            except ValidationError as error:
                self.emit("PARAM_RESTORE_REJECTED", name=name, reason=error.message)

    def get(self, name: str) -> Any:
        return self.values[name]

    def preset(self, name: str, value: Any) -> None:
        """Set a value before the executive starts (a start-up override such as ``ilrs-fsw run
        --param``); persisted, so the restore at start keeps it. KeyError for an unknown name,
        ValidationError for a bad value."""
        self.values[name] = self.by_name[name].validate(value)
        self._persist()

    def set(self, name: str, value: Any) -> None:
        definition = self.by_name[name]
        self.values[name] = definition.validate(value)
        self._persist()
        self.emit("PARAM_SET", name=name, value=self.values[name])

    def _persist(self) -> None:
        changed = {name: value for name, value in self.values.items() if value != self.by_name[name].default}
        self.ctx.store.put(STORE_KEY, changed)

    # --- PUS 20 requests ---------------------------------------------------------------------
    def routes(self) -> dict[tuple[int, int], Any]:
        return {(20, 1): self._report, (20, 3): self._set}

    def _report(self, tc: PusTc) -> Any:
        ids = appdata.decode(tc.app_data) if tc.app_data else []
        if not isinstance(ids, list):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "expected a CBOR list of parameter ids")
        if not ids:
            ids = sorted(self.by_id)
        unknown = [i for i in ids if i not in self.by_id]
        if unknown:
            raise CommandRejected(FailureCode.UNKNOWN_PARAMETER, f"unknown parameter ids {unknown}", unknown)
        return lambda: self.ctx.telemetry.send(20, 2, [[i, self.values[self.by_id[i].name]] for i in ids])

    def _set(self, tc: PusTc) -> Any:
        pairs = appdata.decode(tc.app_data)
        if not isinstance(pairs, list) or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "expected a CBOR list of [id, value] pairs")
        checked: list[tuple[str, Any]] = []
        for parameter_id, value in pairs:
            definition = self.by_id.get(parameter_id)
            if definition is None:
                raise CommandRejected(FailureCode.UNKNOWN_PARAMETER, f"unknown parameter id {parameter_id}")
            try:
                checked.append((definition.name, definition.validate(value)))
            except ValidationError as error:
                raise CommandRejected(error.code, error.message) from error

        def apply() -> None:
            # All pairs were validated first, so a set is all-or-nothing.
            for name, value in checked:
                self.values[name] = value
            self._persist()
            for name, value in checked:
                self.emit("PARAM_SET", name=name, value=value)

        return apply
