"""The descent's IMU checks (mixed into :class:`fsw.gnc.controller.DescentController`).

Each 50 Hz sample is checked for age (a time tag that does not advance: a unit stopped behind a live
interface) and plausibility against the engine's thrust feedback; a rejected sample is not
integrated and the navigation coasts on its model, its gyros are not used either (except those of a
frame whose accelerometers are off). The checks count the rejections (``imu_health``) and never
decide a unit is dead: switching units is the fault protection table's (PUS 12 on the counts, PUS 19
sending ``IMU_SELECT``), which the controller follows (``select_imu``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fsw.devices.descent import StrapdownImuReading
from fsw.gnc.guidance import FREE_FALL, LANDED

if TYPE_CHECKING:
    from fsw.gnc.controller import DescentDevices
    from fsw.gnc.navigation import Navigator


class ImuChecks:
    """The IMU sample checks and their counts; the counts default at class level, so a controller
    restored from a checkpoint written before they existed starts them afresh."""

    IMU_COAST_REPORT = 25  # samples rejected in a row (0.5 s at 50 Hz) before the coast is reported
    imu_rejected = 0  # IMU samples rejected since the descent began
    imu_rejected_run = 0  # rejected in a row now, from the unit in use (0: the last one was used)
    _imu_last_t: float | None = None  # time tag of the newest IMU sample seen
    _imu_unit = 0  # the unit of the last sample judged

    dev: DescentDevices
    nav: Navigator
    phase: str
    _measured_thrust: float
    _imu_unit_wanted: int | None  # the unit last selected, until its readings arrive
    _gyro: tuple[float, float, float] | None  # this cycle's usable gyro rates

    def _event(self, t: float, name: str, detail: str = "") -> None:
        raise NotImplementedError

    def _imu_fault(self, r: StrapdownImuReading) -> str | None:
        """Why a fresh sample cannot be used (None: it can): judged against the engine's thrust."""
        if not r.valid:
            return "not valid"
        if not r.accelerometer_on:
            return "accelerometer off"
        fx, fy, fz = r.specific_force_body
        if not (math.isfinite(fx) and math.isfinite(fy) and math.isfinite(fz)):
            return "not finite"
        if self.phase in (FREE_FALL, LANDED):
            return None if abs(fy) < 3.0 and abs(fz) < 3.0 else "implausible"
        expected = self._measured_thrust / max(1.0, self.nav.dry_mass + self.nav.propellant)
        return None if abs(fx - expected) < 1.5 and abs(fy) < 1.0 and abs(fz) < 1.0 else "implausible"

    def imu_health(self) -> tuple[int, int, int]:
        """What the controller measures of its IMU: (the unit in use or last selected, samples
        rejected since the descent began, rejected in a row now)."""
        unit = self._imu_unit_wanted if self._imu_unit_wanted is not None else self._imu_unit
        return unit, self.imu_rejected, self.imu_rejected_run

    def select_imu(self, unit: int, t: float) -> None:
        """Use IMU ``unit`` from now on (a command: the ground's, or the fault protection's). The
        other unit's readings are neither used nor judged until the selection reaches the IMU."""
        self.dev.imu.select_unit(unit)
        self._imu_unit_wanted = unit
        self.imu_rejected_run = 0
        self._event(t, "imu_selected", f"unit {unit} by command")

    def _read_imu(self, t: float) -> StrapdownImuReading | None:
        """This cycle's IMU sample, or None: rejected (stale or implausible), and the navigation
        coasts on its model. A glitch is ridden out so; a unit that stays bad is for the fault
        protection to switch, from the counts this keeps."""
        reading = self.dev.imu.read()
        self._gyro = None
        if self._imu_unit_wanted is not None and reading.unit != self._imu_unit_wanted:
            return None  # the switch has not reached the IMU yet: neither use nor judge the old unit
        self._imu_unit_wanted = None
        self._imu_unit = reading.unit
        # A frame whose time tag does not advance is an old one repeated (a unit that stopped behind
        # a live interface), however plausible its numbers.
        fresh = self._imu_last_t is None or reading.t > self._imu_last_t
        if fresh:
            self._imu_last_t = reading.t
        fault = self._imu_fault(reading) if fresh else "stale: time tag not advancing"
        # The gyros of a frame whose accelerometers are off are still good.
        self._gyro = reading.angular_rate_body if fault is None or fault == "accelerometer off" else None
        if fault is None:
            if self.imu_rejected_run >= self.IMU_COAST_REPORT:
                self._event(t, "imu_coast_ended", f"unit {reading.unit} after {self.imu_rejected_run} samples")
            self.imu_rejected_run = 0
            return reading
        self.imu_rejected += 1
        self.imu_rejected_run += 1
        if self.imu_rejected_run == self.IMU_COAST_REPORT:
            self._event(t, "imu_coasting", f"unit {reading.unit}: {self.IMU_COAST_REPORT} samples rejected in a row "
                        f"({fault}), navigating on the model")
        return None

    def _gyro_sample(self) -> tuple[float, float, float] | None:
        """The gyros before ignition (no thrust to judge the accelerometers by): a fresh, valid frame."""
        reading = self.dev.imu.read()
        if not reading.valid or (self._imu_last_t is not None and reading.t <= self._imu_last_t):
            return None
        self._imu_last_t = reading.t
        return reading.angular_rate_body
