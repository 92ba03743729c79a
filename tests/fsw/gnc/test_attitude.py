"""The attitude filter alone, on synthetic truth: it converges from a 10 deg error and learns the gyro
bias; a diverged filter re-initialises from agreeing star tracker solutions its gate rejects."""

from __future__ import annotations

import math
import random

from fsw.gnc.attitude import AttitudeFilter, error_angles, quat_multiply, quaternion_of, tilted_frame, turn


def test_filter_converges_from_a_10_degree_error_and_estimates_the_gyro_bias() -> None:
    rng = random.Random(7)
    dt = 0.02
    bias = (math.radians(0.01), math.radians(-0.02), math.radians(0.015))  # ~36-72 deg/h
    star_noise = AttitudeFilter.STAR_NOISE_RAD
    q_true = quaternion_of(tilted_frame(math.radians(-60.0), math.radians(5.0)))
    start_error = (math.radians(6.0), math.radians(-5.0), math.radians(6.0))
    assert math.degrees(math.sqrt(sum(e * e for e in start_error))) > 9.8
    filt = AttitudeFilter()
    filt.initialise(turn(q_true, start_error), 0.0, attitude_sigma_rad=math.radians(10.0))
    errors = [math.degrees(math.sqrt(sum(e * e for e in error_angles(filt.q, q_true))))]
    for n in range(int(300 / dt)):
        t = n * dt
        # Truth: a slow slew about a wandering axis.
        w = (0.01 * math.sin(0.05 * t), 0.02 * math.cos(0.03 * t), -0.005)
        q_true = turn(q_true, (w[0] * dt, w[1] * dt, w[2] * dt))
        gyro = tuple(w[i] + bias[i] + rng.gauss(0.0, AttitudeFilter.GYRO_NOISE_RAD_S) for i in range(3))
        filt.propagate(gyro, dt)  # type: ignore[arg-type]
        if n % 12 == 0:  # ~4 Hz
            noise = tuple(rng.gauss(0.0, s) for s in star_noise)
            measured = quat_multiply(q_true, (1.0, 0.5 * noise[0], 0.5 * noise[1], 0.5 * noise[2]))
            assert filt.update_star(measured, t) == "accepted"
        errors.append(math.degrees(math.sqrt(sum(e * e for e in error_angles(filt.q, q_true)))))
    assert errors[0] > 9.0
    assert max(errors[int(10 / dt):]) < 0.05  # within 10 s the error is the star tracker's
    assert max(errors[int(200 / dt):]) < 0.03  # the tracker: 0.003 deg across its boresight, 0.017 about it
    for estimated, true in zip(filt.bias, bias, strict=True):
        assert abs(estimated - true) < math.radians(0.002)  # 7 deg/h of 36-72
    assert filt.attitude_sigma_rad < math.radians(0.02)


def test_a_solution_far_from_the_estimate_is_rejected_and_the_gyros_carry_on() -> None:
    filt = AttitudeFilter()
    q = quaternion_of(tilted_frame(0.3, 0.1))
    assert filt.update_star(q, 0.0) == "initialised"
    for _ in range(25):
        filt.propagate((0.0, 0.0, 0.0), 0.02)
    assert filt.update_star(turn(q, (0.0, 0.0, math.radians(5.0))), 0.5) == "rejected"
    assert filt.rejected == 1 and filt.accepted == 0
    assert math.degrees(math.sqrt(sum(e * e for e in error_angles(filt.q, q)))) < 1e-6


def test_after_a_gap_on_a_held_rate_the_widened_filter_lets_the_star_tracker_correct_it() -> None:
    # A restart: the filter, settled on the tracker, is carried over a gap on one held rate while the
    # vehicle turned otherwise, and wakes up 0.5 deg off. Trusting its small covariance, it would
    # reject every solution; widened for the gap, it takes the next one and is right again.
    q_true = quaternion_of(tilted_frame(math.radians(2.0), 0.0))
    error = (math.radians(0.3), math.radians(-0.4), 0.0)
    for widen in (False, True):
        filt = AttitudeFilter()
        filt.reinit_after_rejections, filt.reinit_after_outage_s = 0, 0.0  # this response alone
        filt.initialise(q_true, 0.0)
        filt.q = turn(q_true, error)
        if widen:
            filt.widen(math.radians(2.0) * 1.4)
        verdicts = [filt.update_star(q_true, 0.25 * (k + 1)) for k in range(8)]
        left = math.degrees(math.sqrt(sum(e * e for e in error_angles(filt.q, q_true))))
        if widen:
            assert verdicts[0] == "accepted" and left < 0.01
        else:  # the negative control: the gate shuts the tracker out, the error stays
            assert set(verdicts) == {"rejected"} and left > 0.4


def _diverged_flight(filt: AttitudeFilter, seconds: float, *, tracker_out_s: float = 0.0,
                     garbage: bool = False) -> tuple[list[str], list[float]]:
    """A filter settled 10 deg off the truth (a small covariance that believes it), then flown on
    good gyros through a slow slew with a star tracker solution every 0.25 s (none for the first
    ``tracker_out_s``; ``garbage``: each one a different wrong attitude). The verdicts, and the
    true error (deg) every cycle."""
    rng = random.Random(11)
    dt = 0.02
    bias = (math.radians(0.002), math.radians(-0.003), math.radians(0.001))
    q_true = quaternion_of(tilted_frame(math.radians(-50.0), math.radians(3.0)))
    filt.initialise(turn(q_true, (math.radians(6.0), math.radians(-5.0), math.radians(6.0))), 0.0)
    for _ in range(40):  # a settled filter: 40 s of its own propagation and no update
        filt.propagate(bias, 1.0)
    filt.P = [[(1e-8 if i == j else 0.0) for j in range(6)] for i in range(6)]
    filt.last_update_t = 0.0
    verdicts: list[str] = []
    errors: list[float] = []
    for n in range(int(seconds / dt)):
        t = n * dt
        w = (0.02 * math.sin(0.1 * t), 0.03, -0.01 * math.cos(0.07 * t))  # up to 2 deg/s
        q_true = turn(q_true, (w[0] * dt, w[1] * dt, w[2] * dt))
        gyro = tuple(w[i] + bias[i] + rng.gauss(0.0, AttitudeFilter.GYRO_NOISE_RAD_S) for i in range(3))
        filt.propagate(gyro, dt)  # type: ignore[arg-type]
        if n % 12 == 0 and t >= tracker_out_s:
            noise = tuple(rng.gauss(0.0, s) for s in AttitudeFilter.STAR_NOISE_RAD)
            if garbage:  # a faulty tracker: each solution off in its own direction by 5-20 deg
                noise = tuple(rng.uniform(-0.2, 0.2) for _ in range(3))
            verdicts.append(filt.update_star(quat_multiply(q_true, (1.0, 0.5 * noise[0], 0.5 * noise[1],
                                                                    0.5 * noise[2])), t))
        errors.append(math.degrees(math.sqrt(sum(e * e for e in error_angles(filt.q, q_true)))))
    return verdicts, errors


def test_a_diverged_filter_is_reinitialised_by_agreeing_rejected_solutions_and_not_without_the_rule() -> None:
    filt = AttitudeFilter()
    verdicts, errors = _diverged_flight(filt, 30.0)
    # Eight solutions in a row rejected, each the same 10 deg from the estimate: the estimate is wrong.
    assert verdicts[:7] == ["rejected"] * 7 and verdicts[7] == "reinitialised"
    assert filt.reinitialisations == 1 and filt.last_reinitialisation[0] == 8
    assert math.degrees(filt.last_reinitialisation[1]) > 9.0
    assert set(verdicts[8:]) == {"accepted"}  # the tracker is followed again
    assert errors[0] > 9.0 and max(errors[int(3.0 / 0.02):]) < 0.05
    # Negative control: the same divergence without the rule: the gate shuts the tracker out for good.
    stuck = AttitudeFilter()
    stuck.reinit_after_rejections, stuck.reinit_after_outage_s = 0, 0.0
    verdicts, errors = _diverged_flight(stuck, 30.0)
    assert set(verdicts) == {"rejected"} and stuck.reinitialisations == 0
    assert min(errors) > 9.0


def test_after_a_long_outage_two_agreeing_rejected_solutions_reinitialise() -> None:
    filt = AttitudeFilter()
    filt.reinit_after_rejections = 0  # the outage rule alone
    verdicts, errors = _diverged_flight(filt, 20.0, tracker_out_s=12.0)
    assert verdicts[:2] == ["rejected", "reinitialised"] and errors[-1] < 0.05
    # Within 10 s of the last accepted solution the outage rule waits, however many agree (the
    # count rule, switched off here, is the one for that).
    short = AttitudeFilter()
    short.reinit_after_rejections = 0
    verdicts, errors = _diverged_flight(short, 9.5, tracker_out_s=2.0)
    assert len(verdicts) > 25 and set(verdicts) == {"rejected"} and min(errors) > 9.0


def test_solutions_that_disagree_with_each_other_never_reinitialise_the_filter() -> None:
    # A faulty tracker (each solution wrong in its own way) is rejected solution after solution;
    # its solutions do not agree, so the estimate on the gyros is kept.
    filt = AttitudeFilter()
    verdicts, errors = _diverged_flight(filt, 30.0, garbage=True)
    assert len(verdicts) > 100 and set(verdicts) == {"rejected"} and filt.reinitialisations == 0
    assert min(errors) > 9.0  # the estimate the gyros carry, no worse for the tracker's fault
