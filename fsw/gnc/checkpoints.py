"""The GNC component's checkpoints (mixed into :class:`fsw.gnc.component.GncComponent`): powered
flight survives a restart of the flight software. The controller in flight is saved once a second and
at every milestone; a restarted component restores it and propagates over the gap it did not see."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsw.core.context import Context
from fsw.gnc.uplink import sensor_time

CHECKPOINT_KEY = "gnc.checkpoint"
CHECKPOINT_VERSION = 2  # 2: the ascender's controller carries its attitude filter and control


@dataclass(frozen=True)
class FinishedPhase:
    outcome: str


def milestone(controller: Any) -> tuple[str, bool]:
    return controller.phase, getattr(controller, "cutoff_t", None) is not None


class GncCheckpoints:
    """Saving and restoring the controller in flight."""

    ctx: Context
    clock: Any
    lander: Any
    ascender: Any
    descent: Any
    ascent: Any
    period_s: float
    _started_at: float
    _checkpointed_as: tuple[str, bool] | None
    _ascent_stage_reported: set[str]
    _catch_up_from: float | None
    _resuming: bool
    _phase: str

    if TYPE_CHECKING:  # provided by the component this is mixed into
        def emit(self, event: str, /, **args: Any) -> None: ...

    def _checkpoint(self) -> None:
        """Save the controller in flight (navigation, guidance, timers) with the sensor time it was
        taken at. A process crash loses at most a second, which :meth:`_catch_up` propagates over."""
        flying = self._flying()
        if flying is None:
            return
        controller, vehicle, devices = flying
        self._checkpointed_as = milestone(controller)
        self.ctx.store.put(CHECKPOINT_KEY, {
            "version": CHECKPOINT_VERSION, "vehicle": vehicle, "t": self.clock.monotonic() - self._started_at,
            "sensor_t": sensor_time(devices),
            "controller": pickle.dumps(controller, protocol=pickle.HIGHEST_PROTOCOL),
        }, durable=False)

    def _restore(self, vehicle: str) -> Any:
        saved = self.ctx.store.get(CHECKPOINT_KEY)
        reason = ""
        if not isinstance(saved, dict) or saved.get("version") != CHECKPOINT_VERSION:
            reason = "none saved" if saved is None else "unknown version"
        elif saved.get("vehicle") != vehicle:
            reason = f"the checkpoint is of the {saved.get('vehicle')}"
        if reason:
            self.emit("GNC_CHECKPOINT_LOST", vehicle=vehicle, reason=reason)
            return None
        if "finished" in saved:
            return FinishedPhase(str(saved["finished"]))
        try:
            controller = pickle.loads(saved["controller"])
        except Exception as error:  # written by another software version
            self.emit("GNC_CHECKPOINT_LOST", vehicle=vehicle, reason=f"unreadable: {type(error).__name__}")
            return None
        controller.attach(self.lander if vehicle == "lander" else self.ascender)
        self._started_at = self.clock.monotonic() - float(saved["t"])
        # Every stage reached is reported again: the machine may have missed the last one (it ignores
        # the ones it is already past).
        self._ascent_stage_reported = set()
        self._catch_up_from = saved.get("sensor_t")
        self._resuming = True
        self._phase = controller.phase
        return controller

    def _flying(self) -> tuple[Any, str, Any] | None:
        """(controller, vehicle, its devices) of the powered phase in progress, if any."""
        if self.descent is not None:
            return self.descent, "lander", self.lander
        if self.ascent is not None:
            return self.ascent, "ascender", self.ascender
        return None

    def _catch_up(self, controller: Any, vehicle: str, devices: Any) -> None:
        """First cycle after a restart: propagate over the flight time no controller saw (from the
        checkpoint to now, measured on the sensors' clock, which ran on through the reset)."""
        since, self._catch_up_from, self._resuming = self._catch_up_from, None, False
        gap = 0.0
        now = sensor_time(devices)
        if since is not None and now is not None:
            gap = max(0.0, now - since)
            if gap > 0:
                controller.catch_up(gap, self.period_s)
                self._started_at -= gap
        t = self.clock.monotonic() - self._started_at
        self.emit("GNC_RESUMED", vehicle=vehicle, t=round(t, 2), phase=controller.phase, gap=round(gap, 2))
        controller.reconcile_actuators(t)
        self._checkpoint()

    def _checkpoint_finished(self, vehicle: str, outcome: str) -> None:
        """The phase is over: a reset before the mission records the report finds it said again."""
        self.ctx.store.put(CHECKPOINT_KEY, {"version": CHECKPOINT_VERSION, "vehicle": vehicle,
                                                  "finished": outcome}, durable=False)
