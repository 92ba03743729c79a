"""What every partner payload shares: power state, product numbering, standard HK and events.

A payload module subclasses :class:`PayloadComponent`, declares its commands (opcodes in its own
block), and implements :meth:`PayloadComponent.make_product`. The standard points and events are
built from the payload's short ``prefix`` so that names stay unique in the dictionary.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, ClassVar, Protocol

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import SAFING_POWER_OFF, EventDef, Limits, SafingStep, Severity, TelemetryDef
from fsw.core.errors import CommandFailed
from fsw.payloads.products import ProductError, ProductStore, products_directory
from fsw.protocol.errors import FailureCode


class PayloadDevice(Protocol):
    """The least a payload's device offers; each payload's own Protocol extends it."""

    def set_power(self, on: bool) -> None: ...

    def temperature_c(self) -> float: ...


def standard_points(prefix: str) -> tuple[TelemetryDef, ...]:
    low = prefix.lower()
    return (
        TelemetryDef(f"{low}_powered", "bool", "", f"{prefix} instrument powered"),
        TelemetryDef(f"{low}_temperature", "f32", "degC", f"{prefix} instrument temperature",
                     yellow=Limits(-30.0, 50.0), red=Limits(-40.0, 60.0)),
        TelemetryDef(f"{low}_products", "u16", "", f"{prefix} products acquired (persistent)"),
        TelemetryDef(f"{low}_last_product_bytes", "u32", "B", f"{prefix} size of the newest product"),
        TelemetryDef(f"{low}_faults", "u16", "", f"{prefix} acquisitions failed since boot"),
    )


def standard_events(prefix: str, first_id: int) -> tuple[EventDef, ...]:
    return (
        EventDef(first_id, f"{prefix}_POWER", Severity.INFO, f"{prefix} power {{state}}"),
        EventDef(first_id + 1, f"{prefix}_PRODUCT", Severity.INFO, f"{prefix} product {{name}} ({{size}} octets)"),
        EventDef(first_id + 2, f"{prefix}_FAULT", Severity.MEDIUM, f"{prefix} acquisition failed: {{reason}}"),
    )


class PayloadComponent(Component):
    """Base of partner instruments. Subclasses set ``name``, ``prefix``, ``hk_structure`` and the
    declarations. The device comes from the platform (``device``); a plug-in whose platform has none
    may bring a stand-in with ``make_device(seed)``. Without a device the instrument is absent: its
    ``<PREFIX>_FAULT`` event says so at start, its commands fail, and the rest of the flight goes on."""

    prefix: ClassVar[str] = ""
    product_extension: ClassVar[str] = "bin"
    hk_quiet_in_flight = True  # a surface instrument: nothing to watch in a powered flight

    def __init__(self, ctx: Context, seed: int = 1, device: Any = None) -> None:
        super().__init__(ctx)
        self.seed = seed
        self.device = device if device is not None else self.make_device(seed)
        self.products = ProductStore(products_directory(ctx.store.path))
        self.powered = False
        self.faults = 0
        self.last_product_bytes = 0

    def safing_steps(self) -> tuple[SafingStep, ...]:
        """Entering SAFE powers the instrument off (its standard ``<PREFIX>_POWER_OFF``)."""
        return (SafingStep(f"{self.prefix}_POWER_OFF", rank=SAFING_POWER_OFF),)

    def make_device(self, seed: int) -> Any:
        """The device when the platform gives none (None: the instrument is absent)."""
        return None

    async def start(self) -> None:
        if self.device is None:
            self.emit(f"{self.prefix}_FAULT", reason="device absent: the platform provides none")

    # --- persistent product numbering ----------------------------------------------------------
    @property
    def _count_key(self) -> str:
        return f"payload.{self.name}.products"

    @property
    def product_count(self) -> int:
        return int(self.ctx.store.get(self._count_key, 0))

    # --- shared behaviour ----------------------------------------------------------------------
    def set_power(self, on: bool) -> None:
        if self.device is None:
            if not on:  # an absent instrument is off: powering it off succeeds (the safing response does)
                return
            raise CommandFailed(FailureCode.EXECUTION_FAILED, f"{self.prefix} device absent")
        self.device.set_power(on)
        self.powered = on
        self.emit(f"{self.prefix}_POWER", state="on" if on else "off")

    def require_power(self) -> None:
        if not self.powered:
            raise CommandFailed(FailureCode.WRONG_MODE, f"{self.prefix} is off")

    async def acquire(self, *args: Any) -> str:
        """Run ``make_product(index, *args)`` and write its octets as the next product file."""
        self.require_power()
        index = self.product_count + 1
        name = f"{self.prefix.lower()}_{index:04d}.{self.product_extension}"
        try:
            # A synchronous product (device readout, rendering, the file's fsync) runs in a thread
            # so that the rate groups keep their beat; the hold keeps virtual time still meanwhile.
            if inspect.iscoroutinefunction(self.make_product):
                data = await self.make_product(index, *args)  # it awaits flight time itself: no hold
            else:
                with self.clock.hold():
                    data = await asyncio.to_thread(self.make_product, index, *args)
            with self.clock.hold():
                await asyncio.to_thread(self.products.write, name, data)
        except (OSError, ProductError, ValueError) as error:
            self.faults += 1
            self.emit(f"{self.prefix}_FAULT", reason=str(error))
            raise CommandFailed(FailureCode.EXECUTION_FAILED, str(error)) from error
        self.ctx.store.put(self._count_key, index)
        self.last_product_bytes = len(data)
        self.emit(f"{self.prefix}_PRODUCT", name=name, size=len(data))
        return name

    def make_product(self, index: int, *args: Any) -> Any:
        raise NotImplementedError

    def housekeeping(self) -> dict[str, Any]:
        low = self.prefix.lower()
        return {
            f"{low}_powered": self.powered,
            f"{low}_temperature": round(self.device.temperature_c(), 2) if self.device is not None else float("nan"),
            f"{low}_products": self.product_count, f"{low}_last_product_bytes": self.last_product_bytes,
            f"{low}_faults": self.faults, **self.extra_housekeeping(),
        }

    def extra_housekeeping(self) -> dict[str, Any]:
        return {}

    async def stop(self) -> None:
        if self.powered:
            self.device.set_power(False)
            self.powered = False
