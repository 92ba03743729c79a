"""What the ground uplinks before powered descent, by telecommand (mixed into the GNC component).

The ground's orbit determination gives the lander's state vector at an epoch; the ground also
chooses the landing target and sends the coarse terrain map of the approach. Each arrives by a
function command (PUS 8,1, verified with PUS 1) and is kept in the persistent store, so that a
reboot between the uplink and the go loses nothing:

- ``DESCENT_STATE_SET epoch_s frame x_m y_m z_m vx_m_s vy_m_s vz_m_s``: position and velocity in the
  Moon-centred descent frame (``MCDF``, :mod:`fsw.gnc.moon_frame`) at ``epoch_s``, a time on the descent
  sensors' time base (the time tags of the IMU: mission elapsed time as the lander's units count it);
- ``DESCENT_FRAME_SET pole_x pole_y pole_z aligned_epoch_s``: the Moon's spin axis in MCDF axes and
  the sensor time at which the star tracker's inertial frame and the MCDF coincided, so the flight
  software can follow the frame as the Moon turns;
- ``DESCENT_TARGET_SET downrange_m crossrange_m``: the landing site, arcs over the reference sphere
  from the frame's track origin;
- ``DESCENT_MAP_BEGIN spacing_m points crc32`` then ``DESCENT_MAP_SEGMENT first heights`` until every
  point is in: heights above the reference sphere every ``spacing_m`` along the track from its
  origin, big-endian 32-bit floats, at most :data:`MAP_SEGMENT_POINTS` per segment; the map is taken
  when all points are in and their CRC-32 matches the one announced.

``GO_DESCENT`` is refused (1,4 ``NO_DESCENT_STATE``) while the state, target or map is missing, the
target lies off the map or the state is older than ``gnc_state_max_age_s``; refused (1,4
``NO_DESCENT_FRAME``) without the frame: the Moon's turn left out, the MCDF taken as inertial, the
landing would miss by hundreds of metres across the track and nothing would say why. The ground may
waive the frame (``gnc_descent_frame_required`` false, a deliberate choice): the descent then begins
with the warning ``DESCENT_FRAME_MISSING``. Refused (1,4 ``PDI_WINDOW_CLOSED``) when this
revolution's powered-descent initiation is past, or farther than the coast limit ahead (see
:func:`fsw.gnc.setup.predict_pdi`). A go it takes is answered by the event ``PDI_PREDICTED``, saying
when the engine will light.
"""

from __future__ import annotations

import copy
import math
import struct
import zlib
from typing import TYPE_CHECKING, Any

from fsw.core.declarations import Arg, EventDef, Limits, ParameterDef, Severity, TelemetryDef, command
from fsw.core.errors import CommandFailed, CommandRejected
from fsw.gnc.controller import DescentController, DescentDevices
from fsw.gnc.frames import R_MOON
from fsw.gnc.moon_frame import FRAME_NAME, to_track
from fsw.gnc.setup import DescentPlan, predict_pdi
from fsw.protocol.errors import FailureCode

UPLINK_KEY = "gnc.descent_uplink"
UPLINK_VERSION = 1
MAP_SEGMENT_POINTS = 256  # 1 KiB of heights per telecommand
MAX_MAP_POINTS = 8_192
LOWEST_RADIUS_M = R_MOON - 12_000.0  # below the deepest lunar terrain: not a state over the Moon
HIGHEST_RADIUS_M = R_MOON + 5_000_000.0
FASTEST_M_S = 3_000.0  # above lunar escape speed at the surface (2.4 km/s)
NO_FRAME_REASON = ("no uplinked frame (DESCENT_FRAME_SET): without the Moon's turn the landing misses by hundreds of "
                   "metres across the track (gnc_descent_frame_required false flies it anyway)")

UPLINK_EVENTS = (
    EventDef(0x3040, "DESCENT_STATE_UPLINKED", Severity.INFO,
             "descent state at epoch {epoch}s ({frame}): {height} m above the reference sphere, "
             "{downrange} m downrange, {speed} m/s"),
    EventDef(0x3041, "DESCENT_TARGET_UPLINKED", Severity.INFO,
             "landing target {downrange} m downrange, {crossrange} m crossrange"),
    EventDef(0x3042, "DESCENT_MAP_UPLINKED", Severity.INFO, "terrain map of {points} points every {spacing} m taken"),
    EventDef(0x3043, "DESCENT_GO_REFUSED", Severity.MEDIUM, "powered descent go refused: {reason}"),
    EventDef(0x3044, "PDI_PREDICTED", Severity.LOW,
             "powered-descent initiation predicted {wait}s after the checks, at sensor time {t}s "
             "({to_gate} km to the braking gate, braking throttle {throttle})"),
    EventDef(0x3045, "DESCENT_FRAME_UPLINKED", Severity.INFO,
             "descent frame: the Moon's pole at ({x}, {y}, {z}) in MCDF axes, star frame aligned at {epoch}s"),
    EventDef(0x3046, "DESCENT_FRAME_MISSING", Severity.MEDIUM,
             "powered descent begun without an uplinked frame (DESCENT_FRAME_SET; gnc_descent_frame_required "
             "false): the MCDF taken as inertial, the Moon's turn left out"),
)

UPLINK_PARAMETERS = (
    ParameterDef(0x3040, "gnc_dry_mass_kg", "f64", 1_600.0, "lander dry mass (with the ascender) for navigation "
                 "[est.]", 500.0, 5_000.0, unit="kg"),
    ParameterDef(0x3041, "gnc_exhaust_velocity_m_s", "f64", 3_000.0, "main engine exhaust velocity [est.]",
                 1_000.0, 5_000.0, unit="m/s"),
    ParameterDef(0x3042, "gnc_state_max_age_s", "f64", 14_400.0, "oldest uplinked state a go accepts (about two "
                 "revolutions of propagation [est.])", 60.0, 604_800.0, unit="s"),
    ParameterDef(0x3043, "gnc_max_retarget_m", "f64", 3_000.0, "farthest the aim point may move from the uplinked "
                 "target to stay reachable [est.]", 0.0, 50_000.0, unit="m"),
    ParameterDef(0x3044, "gnc_pdi_latest_throttle", "f64", 0.98, "a go is refused when braking from the end of "
                 "the checks would need more than this throttle (the initiation point is past)", 0.9, 1.0),
    ParameterDef(0x3045, "gnc_initial_propellant_kg", "f64", 2_250.0, "descent propellant loaded, when the "
                 "gauge gives no valid reading at the go [est.]", 0.0, 5_000.0, unit="kg"),
    ParameterDef(0x3046, "gnc_descent_frame_required", "bool", True, "refuse the go for powered descent without "
                 "an uplinked frame (DESCENT_FRAME_SET); false: fly it with the MCDF taken as inertial, "
                 "reported by DESCENT_FRAME_MISSING"),
)

UPLINK_TELEMETRY = (
    TelemetryDef("gnc_uplink_state_epoch_s", "f64", "s", "epoch of the uplinked descent state (sensor time)"),
    TelemetryDef("gnc_uplink_map_points", "u32", "", "points of the uplinked terrain map (0: none)"),
    TelemetryDef("gnc_uplink_ready", "bool", "", "state, target, map and frame (unless gnc_descent_frame_required "
                 "is false) uplinked: a go can be taken"),
    TelemetryDef("gnc_height_above_sphere_m", "f64", "m", "estimated height above the reference sphere "
                 f"(radius {R_MOON:.0f} m)", red=Limits(low=-12_000.0)),
    TelemetryDef("gnc_target_distance_m", "f64", "m", "estimated ground distance to the uplinked target",
                 red=Limits(high=1_000_000.0)),
    TelemetryDef("gnc_aim_shift_m", "f64", "m", "distance of guidance's aim point from the uplinked target",
                 yellow=Limits(high=1_000.0), red=Limits(high=3_500.0)),
)


class DescentUplink:
    """The GNC component's uplink commands and the plan they make."""

    if TYPE_CHECKING:  # provided by the component this is mixed into
        ctx: Any
        lander: Any
        descent: Any

        def emit(self, event: str, /, **args: Any) -> None: ...
        def param(self, name: str) -> Any: ...

    def _uplink_record(self) -> dict[str, Any]:
        saved = self.ctx.store.get(UPLINK_KEY)
        if isinstance(saved, dict) and saved.get("version") == UPLINK_VERSION:
            return copy.deepcopy(saved)  # the store keeps its own: a refused change leaves it alone
        return {"version": UPLINK_VERSION}

    def _save_uplink(self, record: dict[str, Any], durable: bool = True) -> None:
        self.ctx.store.put(UPLINK_KEY, record, durable=durable)

    @command(0x3040, Arg("epoch_s", "f64", "time of the state on the descent sensors' time base", unit="s"),
             Arg("frame", "enum", "reference frame of the state", enum=(FRAME_NAME,)),
             Arg("x_m", "f64", "position X", -1e7, 1e7, unit="m"), Arg("y_m", "f64", "position Y", -1e7, 1e7, unit="m"),
             Arg("z_m", "f64", "position Z", -1e7, 1e7, unit="m"),
             Arg("vx_m_s", "f64", "velocity X", -1e4, 1e4, unit="m/s"),
             Arg("vy_m_s", "f64", "velocity Y", -1e4, 1e4, unit="m/s"),
             Arg("vz_m_s", "f64", "velocity Z", -1e4, 1e4, unit="m/s"))
    def cmd_descent_state_set(self, epoch_s: float, frame: str, x_m: float, y_m: float, z_m: float,
                              vx_m_s: float, vy_m_s: float, vz_m_s: float) -> None:
        """Uplink the orbit-determination state vector for the descent (Moon-centred descent frame)."""
        values = (epoch_s, x_m, y_m, z_m, vx_m_s, vy_m_s, vz_m_s)
        if not all(math.isfinite(value) for value in values):
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, "state values must be finite")
        radius = math.sqrt(x_m * x_m + y_m * y_m + z_m * z_m)
        speed = math.sqrt(vx_m_s * vx_m_s + vy_m_s * vy_m_s + vz_m_s * vz_m_s)
        if not LOWEST_RADIUS_M <= radius <= HIGHEST_RADIUS_M:
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"radius {radius:.0f} m is not a state about the Moon")
        if speed > FASTEST_M_S:
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"speed {speed:.0f} m/s above lunar escape")
        record = self._uplink_record()
        record["state"] = {"epoch_s": epoch_s, "frame": frame, "position_m": [x_m, y_m, z_m],
                           "velocity_m_s": [vx_m_s, vy_m_s, vz_m_s]}
        self._save_uplink(record)
        h, s, _c, _vu, _vd, _vc = to_track((x_m, y_m, z_m), (vx_m_s, vy_m_s, vz_m_s))
        self.emit("DESCENT_STATE_UPLINKED", epoch=round(epoch_s, 3), frame=frame, height=round(h, 1),
                  downrange=round(s, 1), speed=round(speed, 2))

    @command(0x3044, Arg("pole_x", "f64", "the Moon's spin axis, MCDF X component", -1.0, 1.0),
             Arg("pole_y", "f64", "the Moon's spin axis, MCDF Y component", -1.0, 1.0),
             Arg("pole_z", "f64", "the Moon's spin axis, MCDF Z component", -1.0, 1.0),
             Arg("aligned_epoch_s", "f64", "sensor time at which the star tracker's inertial frame was the MCDF",
                 unit="s"))
    def cmd_descent_frame_set(self, pole_x: float, pole_y: float, pole_z: float, aligned_epoch_s: float) -> None:
        """Uplink how the Moon-centred descent frame turns: the Moon's spin axis in it, and when it
        coincided with the star tracker's inertial frame."""
        values = (pole_x, pole_y, pole_z, aligned_epoch_s)
        if not all(math.isfinite(value) for value in values):
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, "frame values must be finite")
        norm = math.sqrt(pole_x * pole_x + pole_y * pole_y + pole_z * pole_z)
        if abs(norm - 1.0) > 1e-3:
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, f"the pole must be a unit vector (length {norm:.4f})")
        record = self._uplink_record()
        record["frame"] = {"pole": [pole_x / norm, pole_y / norm, pole_z / norm], "aligned_epoch_s": aligned_epoch_s}
        self._save_uplink(record)
        self.emit("DESCENT_FRAME_UPLINKED", x=round(pole_x, 6), y=round(pole_y, 6), z=round(pole_z, 6),
                  epoch=round(aligned_epoch_s, 3))

    @command(0x3041, Arg("downrange_m", "f64", "target arc along the track from its origin", -1e7, 1e7, unit="m"),
             Arg("crossrange_m", "f64", "target arc across the track", -1e6, 1e6, unit="m"))
    def cmd_descent_target_set(self, downrange_m: float, crossrange_m: float) -> None:
        """Uplink the landing target (Moon-centred descent frame track coordinates)."""
        if not (math.isfinite(downrange_m) and math.isfinite(crossrange_m)):
            raise CommandRejected(FailureCode.ARGUMENT_RANGE, "target values must be finite")
        record = self._uplink_record()
        record["target"] = {"downrange_m": downrange_m, "crossrange_m": crossrange_m}
        self._save_uplink(record)
        self.emit("DESCENT_TARGET_UPLINKED", downrange=round(downrange_m, 1), crossrange=round(crossrange_m, 1))

    @command(0x3042, Arg("spacing_m", "f64", "distance between map points along the track", 10.0, 10_000.0,
                         unit="m"),
             Arg("points", "u16", "heights the map holds", 2, MAX_MAP_POINTS),
             Arg("crc32", "u32", "CRC-32 of every height as a big-endian 32-bit float, in order"))
    def cmd_descent_map_begin(self, spacing_m: float, points: int, crc32: int) -> None:
        """Start a terrain map uplink (the map in use is replaced only when the new one is complete)."""
        record = self._uplink_record()
        record["map_pending"] = {"spacing_m": spacing_m, "points": points, "crc32": crc32, "segments": {}}
        self._save_uplink(record)

    @command(0x3043, Arg("first", "u16", "index of the first height in this segment", 0, MAX_MAP_POINTS - 1),
             Arg("heights", "bytes", "heights above the reference sphere (m), big-endian 32-bit floats",
                 max_length=4 * MAP_SEGMENT_POINTS))
    def cmd_descent_map_segment(self, first: int, heights: bytes) -> None:
        """One segment of the terrain map being uplinked."""
        record = self._uplink_record()
        pending = record.get("map_pending")
        if not isinstance(pending, dict):
            raise CommandFailed(FailureCode.WRONG_STATE, "no map uplink begun (DESCENT_MAP_BEGIN first)")
        if not heights or len(heights) % 4:
            raise CommandRejected(FailureCode.BAD_ARGUMENT, "heights must be whole 32-bit floats")
        count = len(heights) // 4
        if first + count > int(pending["points"]):
            raise CommandRejected(FailureCode.ARGUMENT_RANGE,
                                  f"points {first}..{first + count - 1} beyond the map's {pending['points']}")
        pending["segments"][str(first)] = bytes(heights)
        complete = self._complete_map(pending)
        if complete is None:
            self._save_uplink(record, durable=False)
            return
        del record["map_pending"]
        if isinstance(complete, str):
            self._save_uplink(record)
            raise CommandFailed(FailureCode.EXECUTION_FAILED, f"terrain map discarded: {complete}")
        record["map"] = complete
        self._save_uplink(record)
        self.emit("DESCENT_MAP_UPLINKED", points=len(complete["heights_m"]), spacing=complete["spacing_m"])

    @staticmethod
    def _complete_map(pending: dict[str, Any]) -> dict[str, Any] | str | None:
        """The map once every point is in (a reason if it is not usable), None while points are missing."""
        points = int(pending["points"])
        heights: list[float | None] = [None] * points
        for first, raw in pending["segments"].items():
            values = struct.unpack(f">{len(raw) // 4}f", raw)
            heights[int(first):int(first) + len(values)] = values
        if any(value is None for value in heights):
            return None
        packed = struct.pack(f">{points}f", *heights)
        if zlib.crc32(packed) != int(pending["crc32"]):
            return f"CRC-32 {zlib.crc32(packed):#010x}, announced {int(pending['crc32']):#010x}"
        if not all(value is not None and math.isfinite(value) and abs(value) < 20_000.0 for value in heights):
            return "a height is not finite or not lunar"
        return {"spacing_m": float(pending["spacing_m"]), "heights_m": [float(value or 0.0) for value in heights]}

    def descent_plan(self, now_s: float | None, propellant_kg: float | None) -> DescentPlan | str:
        """The plan a descent would fly from now (``now_s``: sensor time), or why there is none."""
        record = self._uplink_record()
        missing = [name for name in ("state", "target", "map") if name not in record]
        if missing:
            return f"no uplinked {', '.join(missing)}"
        if now_s is None:
            return "no sensor time to propagate the uplinked state to"
        state, target, terrain = record["state"], record["target"], record["map"]
        age = now_s - float(state["epoch_s"])
        if abs(age) > float(self.param("gnc_state_max_age_s")):
            return f"uplinked state {age:.0f} s from its epoch, beyond gnc_state_max_age_s"
        span = float(terrain["spacing_m"]) * (len(terrain["heights_m"]) - 1)
        if not 0.0 <= float(target["downrange_m"]) <= span:
            return f"target {target['downrange_m']:.0f} m downrange lies off the {span:.0f} m terrain map"
        position, velocity = state["position_m"], state["velocity_m_s"]
        frame = record.get("frame")
        pole = None if not isinstance(frame, dict) else (frame["pole"][0], frame["pole"][1], frame["pole"][2])
        aligned = float(frame["aligned_epoch_s"]) if isinstance(frame, dict) else 0.0
        if propellant_kg is None:
            propellant_kg = float(self.param("gnc_initial_propellant_kg"))
        return DescentPlan(
            epoch_s=float(state["epoch_s"]), position_m=(position[0], position[1], position[2]),
            velocity_m_s=(velocity[0], velocity[1], velocity[2]), target_downrange_m=float(target["downrange_m"]),
            target_crossrange_m=float(target["crossrange_m"]), map_spacing_m=float(terrain["spacing_m"]),
            map_heights_m=tuple(terrain["heights_m"]), dry_mass_kg=float(self.param("gnc_dry_mass_kg")),
            propellant_kg=propellant_kg,
            exhaust_velocity_m_s=float(self.param("gnc_exhaust_velocity_m_s")),
            max_retarget_m=float(self.param("gnc_max_retarget_m")), moon_pole=pole, frame_aligned_epoch_s=aligned,
        )

    def plan_now(self) -> DescentPlan | str:
        """The descent plan from the ground's uplink, propagated to the sensors' time now."""
        gauge = self.lander.propellant
        try:
            reading = gauge.read()
            propellant = float(reading.mass_kg) if reading.valid else None
        except Exception:  # no exchange yet: no reading
            propellant = None
        return self.descent_plan(sensor_time(self.lander), propellant)

    def descent_go_refusal(self) -> tuple[FailureCode, str] | None:
        """Why a go for powered descent cannot be taken now (None: it can, and PDI is predicted)."""
        if self.descent is not None:
            return FailureCode.BUSY, "a powered descent is in progress"
        plan = self.plan_now()
        refusal: tuple[FailureCode, str] | None = None
        if isinstance(plan, str):
            refusal = FailureCode.NO_DESCENT_STATE, plan
        elif (frame := self.frame_refusal(plan)) is not None:
            refusal = FailureCode.NO_DESCENT_FRAME, frame
        else:
            now = sensor_time(self.lander)
            assert now is not None
            prediction = predict_pdi(plan, now, DescentController.PREFLIGHT_S,
                                     float(self.param("gnc_pdi_latest_throttle")))
            if prediction.refusal is not None:
                refusal = FailureCode.PDI_WINDOW_CLOSED, prediction.refusal
            else:
                self.emit("PDI_PREDICTED", wait=round(prediction.wait_s, 1),
                          t=round(now + DescentController.PREFLIGHT_S + prediction.wait_s, 1),
                          to_gate=round(prediction.to_gate_m / 1e3, 1), throttle=round(prediction.throttle_needed, 3))
        if refusal is not None:
            self.emit("DESCENT_GO_REFUSED", reason=refusal[1])
        return refusal

    def frame_refusal(self, plan: DescentPlan) -> str | None:
        """Why a descent cannot be flown on ``plan`` for want of the frame's turn (None: it can)."""
        if plan.moon_pole is not None or not self.param("gnc_descent_frame_required"):
            return None
        return NO_FRAME_REASON

    def uplink_housekeeping(self) -> dict[str, Any]:
        record = self.ctx.store.get(UPLINK_KEY) or {}
        state = record.get("state")
        values: dict[str, Any] = {
            "gnc_uplink_map_points": len(record["map"]["heights_m"]) if "map" in record else 0,
            "gnc_uplink_ready": all(name in record for name in ("state", "target", "map"))
            and ("frame" in record or not self.param("gnc_descent_frame_required")),
        }
        if isinstance(state, dict):
            values["gnc_uplink_state_epoch_s"] = float(state["epoch_s"])
        return values


def sensor_time(devices: Any) -> float | None:
    """The flight time as the sensors tag it: the newest of the IMU's and the engine's time tags (a
    failed IMU unit may repeat an old frame); None before the first exchange."""
    engine = devices.main_engine if isinstance(devices, DescentDevices) else devices.engine
    tags = []
    for device in (devices.imu, engine):
        try:
            tags.append(float(device.read().t))
        except Exception:  # no exchange yet: no reading
            continue
    return max(tags) if tags else None


def map_crc32(heights: list[float] | tuple[float, ...]) -> int:
    """The CRC-32 ``DESCENT_MAP_BEGIN`` announces for these heights."""
    return zlib.crc32(struct.pack(f">{len(heights)}f", *heights))
