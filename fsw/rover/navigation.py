"""Rover dead reckoning: wheel odometry for distance, the gyro for heading between Sun fixes, the sun
sensor to take the gyro's drift out, and visual odometry for slip.

Sans-IO: fed readings, it keeps the estimate. Heading from the Sun: the Sun's azimuth in the site
frame moves at a known rate over the lunar day (half a turn in half a synodic month, about
12.2 deg/day); the first fix (with the heading known at the ramp's foot) ties the two together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fsw.devices.rover import RoverImuReading, RoverSunReading, WheelsReading

SUN_GAIN = 0.2  # fraction of the Sun's heading correction taken per fix (noise against gyro drift)


def wrap(angle: float) -> float:
    """Angle in (-pi, pi]."""
    return math.atan2(math.sin(angle), math.cos(angle))


@dataclass
class Pose:
    east_m: float
    north_m: float
    heading_rad: float


class DeadReckoning:
    def __init__(self, pose: Pose, sun_azimuth_rate_rad_s: float) -> None:
        self.pose = pose
        self.sun_rate = sun_azimuth_rate_rad_s
        self.odometer_m = 0.0  # wheel distance since start (mean of the six wheels)
        self.slip = 0.0  # estimated fraction of wheel travel lost
        self._last_wheels: tuple[float, ...] | None = None
        self._last_t: float | None = None
        self._sun_epoch: tuple[float, float] | None = None  # (t, site azimuth of the Sun)
        self._odometer_at_image = 0.0

    def update(self, wheels: WheelsReading, imu: RoverImuReading) -> float:
        """Advance with this cycle's readings; returns the distance made good (estimate)."""
        moved = 0.0
        if self._last_t is not None and imu.valid:
            self.pose.heading_rad = wrap(self.pose.heading_rad + imu.yaw_rate_rad_s * (imu.t - self._last_t))
        if wheels.valid:
            if self._last_wheels is not None:
                deltas = [now - before for now, before in zip(wheels.distance_m, self._last_wheels, strict=True)]
                travel = sum(deltas) / len(deltas)
                if wheels.commanded_speed_m_s != 0.0:
                    self.odometer_m += abs(travel)
                    moved = travel * (1.0 - self.slip) * math.cos(imu.pitch_rad if imu.valid else 0.0)
                    self.pose.east_m += moved * math.cos(self.pose.heading_rad)
                    self.pose.north_m += moved * math.sin(self.pose.heading_rad)
            self._last_wheels = wheels.distance_m
        self._last_t = imu.t
        return moved

    def sun_fix(self, sun: RoverSunReading) -> float | None:
        """Correct the heading from the Sun; returns the correction (rad) or None without a fix."""
        if not sun.valid:
            return None
        site_azimuth = wrap(self.pose.heading_rad + sun.azimuth_body_rad)
        if self._sun_epoch is None:
            self._sun_epoch = (sun.t, site_azimuth)
            return 0.0
        t0, azimuth0 = self._sun_epoch
        expected = azimuth0 + self.sun_rate * (sun.t - t0)
        heading = wrap(expected - sun.azimuth_body_rad)
        error = wrap(heading - self.pose.heading_rad)
        self.pose.heading_rad = wrap(self.pose.heading_rad + SUN_GAIN * error)
        return error

    def visual_odometry(self, moved_m: float) -> float:
        """Slip from the camera's displacement against the wheels' over the same interval."""
        wheel = self.odometer_m - self._odometer_at_image
        self._odometer_at_image = self.odometer_m
        if wheel > 0.3:
            self.slip = min(1.0, max(0.0, 1.0 - moved_m / wheel))
        return self.slip
