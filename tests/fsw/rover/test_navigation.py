"""Dead reckoning alone: odometry, gyro heading, Sun fixes and slip from visual odometry."""

import math

from fsw.devices.rover import RoverImuReading, RoverSunReading, WheelsReading
from fsw.rover.navigation import DeadReckoning, Pose


def wheels(t: float, distance: float, speed: float = 0.05) -> WheelsReading:
    return WheelsReading(t, (distance,) * 6, (0.4,) * 6, speed, 0.0, True)


def imu(t: float, rate: float = 0.0) -> RoverImuReading:
    return RoverImuReading(t, rate, 0.0, 0.0, True)


def test_odometry_moves_the_pose_along_the_heading() -> None:
    dr = DeadReckoning(Pose(0.0, 0.0, math.pi / 2), 0.0)
    for k in range(11):
        dr.update(wheels(k, k * 0.5), imu(k))
    assert math.isclose(dr.pose.north_m, 5.0, abs_tol=1e-9) and abs(dr.pose.east_m) < 1e-9


def test_the_sun_takes_the_gyro_drift_out() -> None:
    dr = DeadReckoning(Pose(0.0, 0.0, 0.0), 0.0)
    sun_site = 1.0  # rad
    dr.sun_fix(RoverSunReading(0.0, sun_site - 0.0, 0.5, True))  # first fix ties the Sun to the heading
    drift = 0.0
    for k in range(1, 200):
        drift += 1e-3
        dr.update(wheels(k, 0.0, 0.0), imu(k, 1e-3))  # a gyro bias: the rover stands still
        dr.sun_fix(RoverSunReading(float(k), sun_site, 0.5, True))
    assert abs(dr.pose.heading_rad) < 0.02 < drift


def test_slip_is_what_the_camera_saw_against_the_wheels() -> None:
    dr = DeadReckoning(Pose(0.0, 0.0, 0.0), 0.0)
    for k in range(21):
        dr.update(wheels(k, k * 0.1), imu(k))
    assert math.isclose(dr.visual_odometry(0.5), 0.75, abs_tol=1e-6)  # 2 m turned, 0.5 m made good
