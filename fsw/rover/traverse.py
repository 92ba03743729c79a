"""The traverse: drive a plan of waypoints, look ahead with the hazard cameras, re-plan around what
they show, and answer slip, loss of contact and nightfall.

Every ``rover_image_every_m`` of wheel travel (and at the start of every leg) the rover stops and
takes a stereo elevation image (as Yutu-2 does: images are taken standing); the hazards found go
into the on-board map (:mod:`fsw.rover.planning`), and the path is re-planned when the map closes a
cell on it. Faults: high slip or a stalled wheel (motor current over the limit) stops the drive,
backs off, closes the place on the map and re-plans; loss of the proximity link stops the drive,
waits, then drives back towards the last point of contact and gives the leg up.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from fsw.core.component import Component
from fsw.core.context import Context
from fsw.core.declarations import (
    MISSION_MODES,
    SAFING_STOP_MOTION,
    Arg,
    EventDef,
    ParameterDef,
    SafingStep,
    Severity,
    TelemetryDef,
    command,
)
from fsw.core.errors import CommandStartFailed, NotAvailable
from fsw.devices.rover import RoverHardware
from fsw.payloads.products import ProductStore, products_directory
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import PusTc
from fsw.rover.navigation import wrap
from fsw.rover.planning import HazardLimits, HazardMap, detect, plan, simplify
from fsw.rover.platform import POSE_TOPIC, VO_TOPIC

CONTACT_TOPIC = "rover_contact"
NIGHT_TOPIC = "rover_night"
STATES = ("idle", "drive", "imaging", "backoff", "science", "contact_wait", "return", "night", "done")
MAX_WAYPOINTS = 32
FILE_DOWNLINK_OPCODE = 0x1701  # fsw.services.filetransfer FILE_DOWNLINK
TURN_RATE_RAD_S = 0.05
TURN_IN_PLACE_RAD = math.radians(8.0)
POINT_REACHED_M = 0.3
RETURN_MARGIN_M = 2.0  # drive back this far inside the last point of contact
IMAGE_AFTER_TURN_RAD = math.radians(25.0)  # a turn this large faces ground no image has seen


class RoverTraverse(Component):
    name = "rover_traverse"
    hk_structure = 62
    hk_period_s = 5.0
    telemetry = (
        TelemetryDef("rtrav_state", "enum", "", "traverse state", enum=STATES),
        TelemetryDef("rtrav_waypoint", "u16", "", "index of the waypoint driven to"),
        TelemetryDef("rtrav_waypoints", "u16", "", "waypoints in the plan"),
        TelemetryDef("rtrav_reached", "u16", "", "waypoints reached"),
        TelemetryDef("rtrav_hazards_seen", "u16", "", "distinct hazards found in the images"),
        TelemetryDef("rtrav_replans", "u16", "", "paths re-planned around a newly seen hazard"),
        TelemetryDef("rtrav_images", "u16", "", "hazard-camera images taken"),
        TelemetryDef("rtrav_slip_stops", "u16", "", "stops on high slip or a stalled wheel"),
        TelemetryDef("rtrav_contact", "bool", "", "proximity link to the lander up"),
        TelemetryDef("rtrav_path_left_m", "f32", "m", "length of the planned path still to drive"),
        TelemetryDef("rtrav_products", "u16", "", "payload products taken at waypoints"),
    )
    events = (
        EventDef(0x6010, "ROVER_WAYPOINT", Severity.INFO, "waypoint {index} at ({east_m:.1f}, {north_m:.1f}) m"
                                                         "{science}"),
        EventDef(0x6011, "ROVER_LEG", Severity.INFO, "driving to waypoint {index}: {points} points, {length_m:.1f} m"),
        EventDef(0x6012, "ROVER_HAZARD_SEEN", Severity.LOW, "{count} new hazard(s), nearest {kind} at "
                                                            "({east_m:.1f}, {north_m:.1f}) m"),
        EventDef(0x6013, "ROVER_REPLANNED", Severity.INFO, "path to waypoint {index} re-planned around a hazard: "
                                                          "{points} points, {length_m:.1f} m"),
        EventDef(0x6014, "ROVER_NO_PATH", Severity.MEDIUM, "no path to waypoint {index}: skipped"),
        EventDef(0x6015, "ROVER_WAYPOINT_REACHED", Severity.INFO, "waypoint {index} reached at "
                                                                  "({east_m:.1f}, {north_m:.1f}) m"),
        EventDef(0x6016, "ROVER_SLIP_STOP", Severity.MEDIUM, "drive stopped: {reason}; {action}"),
        EventDef(0x6017, "ROVER_BACKED_OFF", Severity.INFO, "backed off {distance_m:.1f} m; place closed on the map"),
        EventDef(0x6018, "ROVER_CONTACT_LOST", Severity.MEDIUM, "proximity link lost at ({east_m:.1f}, "
                                                                "{north_m:.1f}) m; {action}"),
        EventDef(0x6019, "ROVER_CONTACT_RETURN", Severity.MEDIUM, "no contact for {wait_s:.0f} s: returning to "
                                                                  "({east_m:.1f}, {north_m:.1f}) m"),
        EventDef(0x601A, "ROVER_CONTACT_REGAINED", Severity.INFO, "proximity link back at ({east_m:.1f}, "
                                                                  "{north_m:.1f}) m"),
        EventDef(0x601B, "ROVER_PRODUCT", Severity.INFO, "{instrument} product {name} ({size} octets, sha256 "
                                                         "{sha256}) at waypoint {index}"),
        EventDef(0x601C, "ROVER_TRAVERSE_DONE", Severity.INFO, "traverse done: {reached} of {waypoints} waypoints, "
                                                               "{odometer_m:.1f} m driven, {hazards} hazards seen"),
        EventDef(0x601D, "ROVER_WAYPOINT_SKIPPED", Severity.MEDIUM, "waypoint {index} given up: {reason}"),
        EventDef(0x601E, "ROVER_PARKED", Severity.INFO, "parked at ({east_m:.1f}, {north_m:.1f}) m until the next go"),
    )
    safing = (SafingStep("ROVER_HALT", rank=SAFING_STOP_MOTION),)
    parameters = (
        ParameterDef(0x6010, "rover_speed_m_s", "f64", 0.05, "driving speed [est. Yutu-2 class]", 0.005, 0.06,
                     unit="m/s"),
        ParameterDef(0x6011, "rover_image_every_m", "f64", 1.5, "wheel travel between hazard images", 0.3, 5.0,
                     unit="m"),
        ParameterDef(0x6012, "rover_hazard_avoidance", "bool", True, "plan around the hazards the cameras find "
                     "(false only for a negative control: straight legs)"),
        ParameterDef(0x6013, "rover_slip_limit", "f64", 0.4, "estimated slip that stops the drive", 0.05, 1.0),
        ParameterDef(0x6014, "rover_stall_current_a", "f64", 1.0, "wheel motor current of a stalled or digging "
                     "wheel", 0.2, 5.0, unit="A"),
        ParameterDef(0x6015, "rover_slip_response", "bool", True, "stop, back off and re-plan on slip or stall "
                     "(false only for a negative control)"),
        ParameterDef(0x6016, "rover_backoff_m", "f64", 1.5, "reverse this far after a slip stop", 0.3, 5.0,
                     unit="m"),
        ParameterDef(0x6017, "rover_contact_wait_s", "f64", 120.0, "wait this long for the proximity link before "
                     "returning towards the last point of contact", 0.0, 7_200.0, unit="s"),
        ParameterDef(0x6018, "rover_contact_recovery", "bool", True, "stop and return on a lost proximity link "
                     "(false only for a negative control)"),
        ParameterDef(0x6019, "rover_ground_hold", "bool", False, "on the afap clock, rover time stands still "
                     "while the traverse waits idle or parked for the ground with the proximity link up "
                     "(until ROVER_GO)"),
    )

    ARRIVAL_M = 0.5

    def __init__(self, ctx: Context, hardware: RoverHardware) -> None:
        super().__init__(ctx)
        self.hw = hardware
        self.waypoints: list[tuple[float, float, bool]] = []
        self.index = 0
        self.reached = 0
        self.state = "idle"
        self.map = HazardMap()
        self.path: list[tuple[float, float]] = []
        self.pose = (0.0, 0.0, 0.0, 0.0, 0.0)  # east, north, heading, slip, odometer
        self.images = self.replans = self.slip_stops = self.products_taken = 0
        self.contact = True
        self.contact_point: tuple[float, float] | None = None
        self.night = False
        self._image_odometer = -math.inf
        self._image_heading = 0.0
        self._slip_images = 0  # images taken when the last slip stop was made: its estimate is spent
        self._backoff_from = 0.0
        self._stall_cycles = 0
        self._waited_from = 0.0
        self._resume = "drive"
        self._returning = False
        self._trail: list[tuple[float, float]] = []
        self._heard_lander = False  # the proximity receiver has locked since boot
        self._holding_for_ground = False
        self._parked = False  # the ground said the traverse is over: nothing to do until its next go
        self._poses = ctx.bus.subscribe(POSE_TOPIC, depth=16)
        self._contacts = ctx.bus.subscribe(CONTACT_TOPIC)
        self._nights = ctx.bus.subscribe(NIGHT_TOPIC)
        self.products = ProductStore(products_directory(ctx.store.path))

    async def start(self) -> None:
        stored = self.ctx.store.get("rover_traverse") or {}
        self.waypoints = [(float(e), float(n), bool(s)) for e, n, s in stored.get("waypoints", [])]
        self.index, self.reached = int(stored.get("index", 0)), int(stored.get("reached", 0))
        self.ctx.rate_groups["fast"].add(self.update)

    async def stop(self) -> None:
        self._release_ground_hold()
        await super().stop()

    def _persist(self) -> None:
        self.ctx.store.put("rover_traverse", {"waypoints": [list(w) for w in self.waypoints], "index": self.index,
                                              "reached": self.reached})

    # --- commands ----------------------------------------------------------------------------
    @command(0x6010, Arg("east_m", "f64", "waypoint east of the lander", -500.0, 500.0, unit="m"),
             Arg("north_m", "f64", "waypoint north of the lander", -500.0, 500.0, unit="m"),
             Arg("science", "bool", "take a panoramic image there and downlink it"))
    def cmd_rover_waypoint(self, east_m: float, north_m: float, science: bool) -> None:
        """Append a waypoint to the traverse plan."""
        if len(self.waypoints) - self.index >= MAX_WAYPOINTS:
            raise CommandStartFailed(FailureCode.BAD_ARGUMENT, f"the plan holds {MAX_WAYPOINTS} waypoints")
        self.waypoints.append((east_m, north_m, science))
        self.emit("ROVER_WAYPOINT", index=len(self.waypoints) - 1, east_m=east_m, north_m=north_m,
                  science=" (science)" if science else "")
        self._persist()

    @command(0x6011, modes=MISSION_MODES)
    def cmd_rover_go(self) -> None:
        """Drive the plan from the next waypoint on."""
        if self.index >= len(self.waypoints):
            raise CommandStartFailed(FailureCode.WRONG_STATE, "no waypoint left in the plan")
        if self.state in ("idle", "done"):
            self._parked = False
            self._release_ground_hold()
            self._start_leg()

    @command(0x6013)
    def cmd_rover_park(self) -> None:
        """The traverse is over and the ground has what it wanted: park until the next ``ROVER_GO``.
        A parked rover waits for the ground as an idle one does (``rover_ground_hold``)."""
        if self.state != "done":
            raise CommandStartFailed(FailureCode.WRONG_STATE, f"the traverse is {self.state}, not done")
        self._parked = True
        self.emit("ROVER_PARKED", east_m=self.pose[0], north_m=self.pose[1])

    # --- waiting for the ground ----------------------------------------------------------------
    def _hold_for_ground(self) -> None:
        """On the afap clock the ground's commands come at wall-clock moments: while the rover waits
        idle for them (the link up, so the ground hears it), its time stands still, so that a seeded
        run starts its traverse at the same on-board time whenever the ground's go arrives. A parked
        rover waits the same way: otherwise its quiet hours would run on as fast as the host allows,
        a core's worth of work for nothing while the rest of the mission flies."""
        waiting = self.state == "idle" or (self.state == "done" and self._parked)
        if (not self._holding_for_ground and waiting and self.contact and self._heard_lander
                and self.clock.mode.kind == "afap" and self.param("rover_ground_hold")):
            self.clock.acquire_hold()
            self._holding_for_ground = True

    def _release_ground_hold(self) -> None:
        if self._holding_for_ground:
            self._holding_for_ground = False
            self.clock.release_hold()

    @command(0x6012)
    def cmd_rover_halt(self) -> None:
        """Stop the wheels and the traverse (a safing step; idempotent)."""
        self.hw.wheels.stop()
        if self.state not in ("night", "done"):
            self.state = "idle"

    # --- the cycle ---------------------------------------------------------------------------
    def update(self) -> None:
        while (pose := self._poses.get_nowait()) is not None:
            self.pose = pose
        self._take_contact()
        while (night := self._nights.get_nowait()) is not None:
            self._set_night(bool(night))
        self._hold_for_ground()
        if self.state in ("idle", "done", "night"):
            return
        if self.ctx.modes.mode != "NOMINAL":
            self.cmd_rover_halt()
            return
        handler = getattr(self, f"_on_{self.state}")
        handler()

    def _take_contact(self) -> None:
        east, north = self.pose[0], self.pose[1]
        while (up := self._contacts.get_nowait()) is not None:
            self._heard_lander = self._heard_lander or bool(up)
            if bool(up) == self.contact:
                continue
            self.contact = bool(up)
            if self.contact:
                self.emit("ROVER_CONTACT_REGAINED", east_m=east, north_m=north)
                if self.state in ("contact_wait", "return"):
                    if self._returning:
                        self._skip("proximity link lost on the way")
                    else:
                        self._start_leg()
                continue
            recover = bool(self.param("rover_contact_recovery"))
            self.emit("ROVER_CONTACT_LOST", east_m=east, north_m=north,
                      action="stopped, waiting" if recover and self.state not in ("idle", "done", "night")
                      else "carrying on")
            if recover and self.state not in ("idle", "done", "night"):
                self.hw.wheels.stop()
                self.state, self._waited_from, self._returning = "contact_wait", self.clock.monotonic(), False
        if self.contact and (not self._trail or math.dist(self._trail[-1], (east, north)) >= 0.5):
            self._trail.append((east, north))
            # The point to return to: heard there, and some way back from where the link went.
            while len(self._trail) > 2 and math.dist(self._trail[1], (east, north)) >= RETURN_MARGIN_M:
                self._trail.pop(0)
            self.contact_point = self._trail[0]

    def _set_night(self, night: bool) -> None:
        self.night = night
        if night and self.state != "night":
            self.hw.wheels.stop()
            self._resume = "drive" if self.state not in ("idle", "done") else self.state
            self.state = "night"
        elif not night and self.state == "night":
            if self._resume == "drive":
                self._start_leg()
            else:
                self.state = self._resume

    # --- legs --------------------------------------------------------------------------------
    def _start_leg(self) -> None:
        while self.index < len(self.waypoints):
            goal = self.waypoints[self.index][:2]
            path = self._plan_to(goal)
            if path is not None:
                self.path = path
                self.state = "imaging" if self.images == 0 or self.pose[4] - self._image_odometer > 0.5 else "drive"
                self.emit("ROVER_LEG", index=self.index, points=len(path), length_m=self._path_length())
                return
            self.emit("ROVER_NO_PATH", index=self.index)
            self.index += 1
        self._finish()

    def _finish(self) -> None:
        self.hw.wheels.stop()
        self.state = "done"
        self._persist()
        self.emit("ROVER_TRAVERSE_DONE", reached=self.reached, waypoints=len(self.waypoints),
                  odometer_m=self.pose[4], hazards=len(self.map.hazards))

    def _skip(self, reason: str) -> None:
        self.emit("ROVER_WAYPOINT_SKIPPED", index=self.index, reason=reason)
        self.index += 1
        self._returning = False
        self._persist()
        self._start_leg()

    def _plan_to(self, goal: tuple[float, float]) -> list[tuple[float, float]] | None:
        if not self.param("rover_hazard_avoidance"):
            return [goal]
        path = plan(self.map, (self.pose[0], self.pose[1]), goal)
        if path is None:
            return None
        points = simplify(path, self.map) or path[-1:]
        if not self.map.blocked(*goal):
            points[-1] = goal  # the waypoint itself, not its cell's centre
        return points

    def _path_length(self) -> float:
        length, here = 0.0, (self.pose[0], self.pose[1])
        for point in self.path:
            length += math.dist(here, point)
            here = point
        return round(length, 2)

    # --- states ------------------------------------------------------------------------------
    def _on_drive(self) -> None:
        east, north, heading, slip, odometer = self.pose
        if self._slipping(slip):
            return
        turned = abs(wrap(heading - self._image_heading)) > IMAGE_AFTER_TURN_RAD
        if odometer - self._image_odometer >= self.param("rover_image_every_m") or turned:
            self.hw.wheels.stop()
            self.state = "imaging"
            return
        while self.path and math.dist((east, north), self.path[0]) < (
                POINT_REACHED_M if len(self.path) > 1 else self.ARRIVAL_M):
            self.path.pop(0)
        if not self.path:
            self._arrived()
            return
        target = self.path[0]
        error = wrap(math.atan2(target[1] - north, target[0] - east) - heading)
        if abs(error) > TURN_IN_PLACE_RAD:
            self.hw.wheels.drive(0.0, math.copysign(TURN_RATE_RAD_S, error))
        else:
            self.hw.wheels.drive(self.param("rover_speed_m_s"), max(-0.05, min(0.05, 1.0 * error)))

    def _slipping(self, slip: float) -> bool:
        try:
            currents = self.hw.wheels.read().current_a
        except NotAvailable:
            return False
        stalled = max(currents) > self.param("rover_stall_current_a")
        self._stall_cycles = self._stall_cycles + 1 if stalled else 0
        high_slip = slip > self.param("rover_slip_limit") and self.images > self._slip_images
        if not (self._stall_cycles >= 3 or high_slip):
            return False
        respond = bool(self.param("rover_slip_response"))
        reason = f"slip {slip:.2f}" if high_slip else f"wheel current {max(currents):.2f} A"
        if self.slip_stops == 0 or respond:
            self.emit("ROVER_SLIP_STOP", reason=reason, action="backing off" if respond else "carrying on")
        self.slip_stops += 1
        if not respond:
            self._stall_cycles = 0
            return False
        east, north, heading = self.pose[:3]
        # The place ahead could not be crossed: closed before backing off.
        self.map.close_around(east + math.cos(heading), north + math.sin(heading), 2.0)
        self.hw.wheels.drive(-self.param("rover_speed_m_s"), 0.0)
        self.state, self._backoff_from, self._stall_cycles = "backoff", self.pose[4], 0
        self._slip_images = self.images
        return True

    def _on_backoff(self) -> None:
        if self.pose[4] - self._backoff_from >= self.param("rover_backoff_m"):
            self.hw.wheels.stop()
            self.emit("ROVER_BACKED_OFF", distance_m=self.pose[4] - self._backoff_from)
            self._start_leg()
        else:
            self.hw.wheels.drive(-self.param("rover_speed_m_s"), 0.0)

    def _on_imaging(self) -> None:
        self.hw.wheels.stop()
        image = self.hw.hazcam.capture()
        if image is None:
            return
        self.images += 1
        self._image_odometer, self._image_heading = self.pose[4], self.pose[2]
        self.ctx.bus.publish(VO_TOPIC, image.moved_m)
        east, north, heading = self.pose[:3]
        if image.valid:
            detections, roughness = detect(image, east, north, heading, HazardLimits())
            known = len(self.map.hazards)
            newly_closed = self.map.add(detections, roughness)
            new = self.map.hazards[known:]
            if new:
                nearest = min(new, key=lambda d: math.dist((d.east_m, d.north_m), (east, north)))
                self.emit("ROVER_HAZARD_SEEN", count=len(new), kind=nearest.kind, east_m=nearest.east_m,
                          north_m=nearest.north_m)
            # A rock beside one already mapped is no new hazard but closes cells of its own, which may
            # lie on the path: the path is checked whenever the map closes a cell, not only when it
            # gains a hazard.
            if newly_closed and self.param("rover_hazard_avoidance") and self._path_blocked():
                self._replan()
                return
        self.state = "return" if self._returning else "drive"

    def _path_blocked(self) -> bool:
        here = (self.pose[0], self.pose[1])
        for point in self.path:
            steps = max(1, int(math.dist(here, point) / 0.2))
            for k in range(1, steps + 1):
                f = k / steps
                if self.map.blocked(here[0] + (point[0] - here[0]) * f, here[1] + (point[1] - here[1]) * f):
                    return True
            here = point
        return False

    def _replan(self) -> None:
        goal = self.path[-1] if self.path else self.waypoints[self.index][:2]
        path = self._plan_to(goal)
        if path is None:
            if self._returning:
                self._skip("no path back to the last point of contact")
            else:
                self.emit("ROVER_NO_PATH", index=self.index)
                self._skip("no path around the hazards")
            return
        self.path = path
        self.replans += 1
        self.emit("ROVER_REPLANNED", index=self.index, points=len(path), length_m=self._path_length())
        self.state = "return" if self._returning else "drive"

    def _arrived(self) -> None:
        self.hw.wheels.stop()
        if self._returning:
            self._skip("returned to the last point of contact")
            return
        east, north = self.pose[:2]
        self.emit("ROVER_WAYPOINT_REACHED", index=self.index, east_m=east, north_m=north)
        self.reached += 1
        if self.waypoints[self.index][2]:
            self.state = "science"
            return
        self.index += 1
        self._persist()
        self._start_leg()

    def _on_science(self) -> None:
        image = self.hw.pancam.acquire()
        if image is None:
            return
        self.products_taken += 1
        name = f"pancam_{self.products_taken:04d}.raw"
        header = appdata.encode([image.t, image.width, image.height, self.pose[0], self.pose[1]])
        data = len(header).to_bytes(2, "big") + header + image.pixels
        self.products.write(name, data)
        self.emit("ROVER_PRODUCT", instrument="pancam", name=name, size=len(data), index=self.index,
                  sha256=hashlib.sha256(image.pixels).hexdigest()[:16])
        tc = PusTc(self.ctx.telemetry.apid, 8, 1, appdata.encode([FILE_DOWNLINK_OPCODE, name]), 0, 0)
        self.ctx.commands.submit(tc, origin="sequence")
        self.index += 1
        self._persist()
        self._start_leg()

    def _on_contact_wait(self) -> None:
        self.hw.wheels.stop()
        if self.clock.monotonic() - self._waited_from < self.param("rover_contact_wait_s"):
            return
        point = self.contact_point or (0.0, 0.0)
        self.emit("ROVER_CONTACT_RETURN", wait_s=self.param("rover_contact_wait_s"), east_m=point[0],
                  north_m=point[1])
        self._returning = True
        path = plan(self.map, (self.pose[0], self.pose[1]), point)
        self.path = simplify(path, self.map) if path else [point]
        self.state = "return"

    def _on_return(self) -> None:
        self._on_drive()
        if self.state == "drive":
            self.state = "return"

    def housekeeping(self) -> dict[str, Any]:
        return {"rtrav_state": self.state, "rtrav_waypoint": self.index, "rtrav_waypoints": len(self.waypoints),
                "rtrav_reached": self.reached, "rtrav_hazards_seen": len(self.map.hazards),
                "rtrav_replans": self.replans, "rtrav_images": self.images, "rtrav_slip_stops": self.slip_stops,
                "rtrav_contact": self.contact, "rtrav_path_left_m": self._path_length(),
                "rtrav_products": self.products_taken}
