"""A powered descent flown by the flight software against the emulator plant, with seeded faults.

The flight side is wired as the flight process wires it (``ilrs-fsw run``, :func:`fsw.topology.lander`):
the executive and the standard services (:func:`fsw.vehicle.core_vehicle`), the GNC component and
the mission machines (:func:`fsw.topology.add_mission`) on a device bus client and the emulated
surface mechanisms as the ``emulator`` platform provides them, then the fault protection table and
the safing sequence; the ground link, device status, file delivery and payloads are left out.
Only the transport differs: the device bus client is :class:`hil.devicebus.LocalDeviceBus`, which
hands each request, through the same encoding, to the plant's :class:`hil.devicebus.DeviceBusServer`
in this process instead of a serial link. The clock is afap.

The mission machine starts in its pre-descent checks and hands the descent to guidance through
the GNC component's descent driver, as in flight. The rig plays the ground: it uplinks the
orbit-determination product (the plant's truth with seeded errors, :mod:`hil.emulator.orbit_determination`)
by telecommand, takes the vehicle to NOMINAL, and sends the armed ``GO_DESCENT`` once the mission
waits for it (``go_delay_s`` later: a go sent late, which guidance may refuse).
Optionally the flight computer is killed in the burn and rebooted on its store while the plant
lives on (Beresheet), and the ground sends requests once the fault protection table is loaded (a
negative control's 19,5, disabling an event-action before the fault).

:func:`fly` is one seed, one set of plant faults and flight parameters in, one
:class:`DescentRecord` of plain values out (the plant's truth, plus the flight software's events
and claims), so that a Monte Carlo campaign can call it per run.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fsw.clock import Clock
from fsw.clock import run as run_on_clock
from fsw.core.store import Store
from fsw.devices.platform import MissionHardware
from fsw.protocol import appdata
from fsw.protocol.errors import FailureCode
from fsw.protocol.packet import ACK_ALL, PusTc, PusTm
from fsw.protocol.verification import FAILURE_SUBTYPES, Subtype, VerificationReport
from fsw.topology import add_fault_protection, add_mission
from fsw.vehicle import add_safing, core_vehicle
from ground.descent_uplink import uplink_commands
from hil.devicebus import DeviceBusServer, LocalDeviceBus
from hil.emulator.orbit_determination import orbit_determination
from hil.emulator.plant import PlantConfig, TouchdownReport, with_faults
from hil.emulator.surface import open_surface_devices
from hil.plant_process import RESET_OUTAGE_S, LanderWorld
from hil.platforms import surface_state_path_for

# The flight ends for the rig once the mission has left the descent (surface operations, safe,
# orbit hold), or the plant has sat on the ground this long without guidance saying so, or at the
# deadline (flight seconds per boot, longer than any descent).
SETTLED_ON_GROUND_S = 20.0
DEADLINE_S = 1_500.0
DESCENT_OVER = ("surface_operations", "safe", "orbit_hold")
# A touchdown farther than this from the planned target missed the landing site [est.: the
# nominal campaign lands within ~0.5 km; the hazard-mapped site is a few hundred metres across].
LANDING_ELLIPSE_M = 1_000.0


@dataclass(frozen=True)
class FlightOptions:
    """How to fly: flight parameters set before boot (as ``ilrs-fsw run --param`` does), and an
    optional reset of the flight computer in the descent."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    reset_below_m: float | None = None  # kill and reboot the flight computer below this height
    reset_outage_s: float = RESET_OUTAGE_S  # plant time that passes while it reboots
    # (service, subtype, data) the ground sends at the first boot once the fault protection table is
    # loaded, before the descent: ((19, 5, [0x7F04]),) disables that event-action.
    ground_requests: tuple[tuple[int, int, Any], ...] = ()
    # The ground's descent uplink and go: False leaves the vehicle without either (a go refused for
    # want of a state, when ``auto_go`` is set among the parameters).
    ground_go: bool = True
    uplink: bool = True  # False: the go is sent without the descent uplink before it
    uplink_frame: bool = True  # False: the uplink leaves DESCENT_FRAME_SET out
    go_delay_s: float = 0.0  # flight seconds between the mission awaiting the go and the ground sending it


@dataclass
class DescentRecord:
    """One flight: the plant's truth first, then what the flight software said."""

    seed: int
    faults: dict[str, Any]
    parameters: dict[str, Any]
    # Truth, from the plant.
    touchdown: TouchdownReport | None
    ignitions: int  # main engine starts the plant saw
    propellant_used_kg: float
    final_height_m: float  # above the ground under the lander
    final_vertical_speed_m_s: float
    ignition_t: float | None  # plant time of the first ignition
    plant_t: float
    flight_restarts: int  # flight computer restarts the plant saw on its device bus
    height_at_reset_m: float | None
    engine_on_at_reset: bool | None
    reset_t: float | None  # plant time of the reset
    # The plant's height above the ground when guidance decided it had touched down (None: it
    # never did); well above zero is a false touchdown.
    height_when_guidance_landed_m: float | None
    # The IMU's own record: (plant time, unit, altitude) of each unit change, and the plant time and
    # altitude of a hard failure of unit 0 (None: none).
    imu_selections: list[tuple[float, int, float]]
    imu_failed_at: tuple[float, float] | None
    # The flight software's word.
    go_verdict: str | None  # how GO_DESCENT ended ("COMPLETION_OK" or the failure code's name); None: not sent
    outcomes: list[str]  # what guidance reported to the mission ("landed", "aborted")
    mission_states: list[str]  # the mission machine's states, in order
    events: list[tuple[str, dict[str, Any]]] = field(repr=False)  # every boot's events, in order
    wall_s: float = 0.0

    # --- truth -----------------------------------------------------------------------------
    @property
    def landed_safely(self) -> bool:
        return self.touchdown is not None and self.touchdown.safe

    @property
    def in_ellipse(self) -> bool:
        return self.touchdown is not None and self.touchdown.landing_error_m <= LANDING_ELLIPSE_M

    @property
    def engine_fired(self) -> bool:
        return self.ignitions > 0 or self.propellant_used_kg > 1.0

    # --- the flight software's events -------------------------------------------------------
    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def gnc_events(self) -> list[str]:
        return [args.get("event", "") for name, args in self.events if name == "GNC_EVENT"]

    def resumed(self) -> list[dict[str, Any]]:
        return [args for name, args in self.events if name == "GNC_RESUMED"]

    def outcome(self) -> str:
        """One line: what happened, by the plant."""
        td = self.touchdown
        if td is not None:
            text = (f"touchdown {td.vertical_speed_m_s:.2f} m/s vertical, {td.horizontal_speed_m_s:.2f} m/s "
                    f"horizontal, tilt {td.tilt_deg:.1f} deg, {td.landing_error_m:.0f} m from the target"
                    f"{', hazards ' + ', '.join(td.hazards) if td.hazards else ''}")
        else:
            text = f"no touchdown, {self.final_height_m / 1e3:.1f} km above the ground"
        text += f"; main engine ignitions {self.ignitions}, propellant used {self.propellant_used_kg:.0f} kg"
        if self.height_when_guidance_landed_m is not None and self.height_when_guidance_landed_m > 5.0:
            text += f"; guidance sensed touchdown {self.height_when_guidance_landed_m:.0f} m up"
        if self.height_at_reset_m is not None:
            text += (f"; reset at {self.height_at_reset_m / 1e3:.1f} km with the engine "
                     f"{'burning' if self.engine_on_at_reset else 'off'}")
        return text + f"; mission {self.mission_states[-1] if self.mission_states else '?'}"

    def summary(self) -> dict[str, Any]:
        """Plain values, JSON-ready (a campaign's row)."""
        values = {key: value for key, value in asdict(self).items() if key not in ("events", "touchdown")}
        values["touchdown"] = ({**asdict(self.touchdown), "safe": self.touchdown.safe}
                               if self.touchdown is not None else None)
        return values


class FlightComputer:
    """One boot of the flight software, wired as the flight process wires it, on the shared plant."""

    def __init__(self, store: Path, server: DeviceBusServer, seed: int, parameters: Mapping[str, Any],
                 on_event: Callable[[str, dict[str, Any]], None] | None = None,
                 ground_requests: tuple[tuple[int, int, Any], ...] = (),
                 descent_go: Callable[[], dict[str, Any]] | None = None, go_delay_s: float = 0.0,
                 uplink: bool = True, uplink_frame: bool = True) -> None:
        self.clock = Clock("afap")
        self.store = Store(store)
        self.vehicle = core_vehicle(self.clock, self.store)
        self.surface = open_surface_devices(surface_state_path_for(store), self.clock.onboard_time, seed)
        self.gnc = add_mission(self.vehicle, MissionHardware(LocalDeviceBus(server, self.clock), self.surface.suite()))
        add_fault_protection(self.vehicle)
        add_safing(self.vehicle)
        assert self.vehicle.mission is not None
        self.mission = self.vehicle.mission.mission
        for name, value in parameters.items():
            self.vehicle.parameters.preset(name, value)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._on_event = on_event
        self.ground_requests = ground_requests
        self.verdicts: dict[int, VerificationReport] = {}  # request id -> its final report
        self.descent_go = descent_go  # the orbit-determination product now, for the ground's uplink
        self.go_delay_s = go_delay_s
        self.uplink = uplink
        self.uplink_frame = uplink_frame
        self.go_verdict: str | None = None
        self._sequence = 0
        self.vehicle.ctx.telemetry.add_sink(self._sink)

    def _sink(self, raw: bytes) -> None:
        if len(raw) > 7 and raw[7] == 1:  # a verification report (service 1)
            tm = PusTm.unpack(raw, self.vehicle.ctx.telemetry.max_packet_size)
            report = VerificationReport.unpack(tm.subtype, tm.source_data)
            if report.subtype in FAILURE_SUBTYPES or report.subtype == Subtype.COMPLETION_OK:
                self.verdicts[report.request_id] = report
            return
        event = self.vehicle.events.decode_report(raw)
        if event is not None:
            self.events.append(event)
            if self._on_event is not None:
                self._on_event(*event)

    async def _send_ground_requests(self) -> None:
        """The ground's requests, once the fault protection table is loaded; each must complete."""
        while not any(name == "FDIR_TABLE_LOADED" for name, _ in self.events):
            await self.clock.sleep(0.1)
        for count, (service, subtype, data) in enumerate(self.ground_requests, start=1):
            tc = PusTc(self.vehicle.apid, service, subtype, appdata.encode(data), count, ACK_ALL)
            self.vehicle.dispatcher.submit(tc)
            while tc.request_id not in self.verdicts:
                await self.clock.sleep(0.02)
            report = self.verdicts[tc.request_id]
            if not report.ok:
                raise RuntimeError(f"ground request {service},{subtype} {data} failed: {report.subtype.name} "
                                   f"(code {report.code})")

    async def _command(self, name: str, args: Mapping[str, Any]) -> VerificationReport:
        """A function command (8,1) as the ground sends it; its final verification report."""
        definition = self.vehicle.dispatcher.commands_by_name[name]
        self._sequence += 1
        values = [args[arg.name] for arg in definition.args]
        tc = PusTc(self.vehicle.apid, 8, 1, appdata.encode([definition.opcode, *values]), 0x1000 + self._sequence,
                   ACK_ALL)
        self.vehicle.dispatcher.submit(tc)
        while tc.request_id not in self.verdicts:
            await self.clock.sleep(0.02)
        return self.verdicts[tc.request_id]

    async def _ground_descent(self) -> None:
        """The ground's part: the descent uplink, NOMINAL, then the armed go when the mission waits for it."""
        assert self.descent_go is not None
        uplink = uplink_commands(self.descent_go()) if self.uplink else []
        uplink = [(name, args) for name, args in uplink if self.uplink_frame or name != "DESCENT_FRAME_SET"]
        for name, args in [*uplink, ("MODE_SET", {"mode": "NOMINAL"})]:
            report = await self._command(name, args)
            if not report.ok:
                raise RuntimeError(f"ground command {name} failed: {report.subtype.name} (code {report.code})")
        while self.mission.state != "awaiting_descent_go":
            if self.mission.state in DESCENT_OVER:
                return
            await self.clock.sleep(0.1)
        await self.clock.sleep(self.go_delay_s)
        opcode = self.vehicle.dispatcher.commands_by_name["GO_DESCENT"].opcode
        armed = await self._command("ARM", {"opcode": opcode})
        if not armed.ok:
            raise RuntimeError(f"ARM GO_DESCENT failed: code {armed.code}")
        report = await self._command("GO_DESCENT", {})
        if report.ok:
            self.go_verdict = "COMPLETION_OK"
        else:
            self.go_verdict = _code_name(report.code)

    def fly(self, until: Callable[[], bool], *, stop: bool) -> None:
        """Boot, fly until ``until()`` (checked every 0.1 s of flight) or the deadline, then shut down
        in order (``stop``) or leave the store as a killed process does."""

        async def main() -> None:
            await self.vehicle.start()
            start = self.clock.monotonic()
            if self.ground_requests:
                async with asyncio.timeout(60.0):  # flight seconds: the table loads in the first few
                    await self._send_ground_requests()
            ground = asyncio.ensure_future(self._ground_descent()) if self.descent_go is not None else None
            refused = False
            while not until() and not refused and self.clock.monotonic() - start < DEADLINE_S:
                if ground is not None and ground.done():
                    ground.result()  # a ground command that failed is the rig's error
                    # A refused go leaves the vehicle in orbit, waiting: that is the flight's end here.
                    refused = self.go_verdict not in (None, "COMPLETION_OK")
                await self.clock.sleep(0.1)
            if ground is not None and not ground.done():
                ground.cancel()
            if stop:
                await self.vehicle.stop("flight over")

        try:
            run_on_clock(main(), self.clock)
        finally:
            if self.surface.hardware is not None:
                self.surface.hardware.close()
            self.store.close()


def _code_name(code: int | None) -> str:
    if code is None:
        return "no code"
    try:
        return FailureCode(code).name
    except ValueError:
        return str(code)


def fly(seed: int = 1, faults: Mapping[str, Any] | None = None, options: FlightOptions | None = None, *,
        workdir: Path | None = None, plant_config: PlantConfig | None = None,
        on_world: Callable[[LanderWorld], None] | None = None,
        on_telemetry: Callable[[bytes], None] | None = None) -> DescentRecord:
    """Fly one descent: the plant with ``faults`` (``FaultConfig`` fields) on ``plant_config`` (a
    campaign's dispersed draw; default the nominal plant), the flight software with ``options``.
    ``workdir`` keeps the flight store and hardware-state file (default: a scratch folder).
    ``on_world`` is shown the plant's world before the flight (a campaign reads its drawn truth);
    ``on_telemetry`` receives every packet the flight software sends (a replay's housekeeping)."""
    wall0 = time.perf_counter()
    options = options or FlightOptions()
    faults = dict(faults or {})
    world = LanderWorld(seed, with_faults(plant_config, **faults) if faults else plant_config)
    if on_world is not None:
        on_world(world)
    plant = world.plant
    server = DeviceBusServer(world.devices, world.advance, options.reset_outage_s)
    parameters = dict(options.parameters)
    landed_at: list[float] = []
    guidance_landed: list[float] = []

    def on_event(name: str, args: dict[str, Any]) -> None:
        if name == "GNC_PHASE" and args.get("new") == "landed" and not guidance_landed:
            guidance_landed.append(0.0 if plant.landed else plant.height_above_ground)

    def descent_over(computer: FlightComputer) -> Callable[[], bool]:
        def over() -> bool:
            if plant.landed and not landed_at:
                landed_at.append(plant.t)
            return computer.mission.state in DESCENT_OVER or bool(
                landed_at and plant.t - landed_at[0] > SETTLED_ON_GROUND_S)
        return over

    events: list[tuple[str, dict[str, Any]]] = []
    height_at_reset: float | None = None
    engine_on_at_reset: bool | None = None
    reset_t: float | None = None
    with tempfile.TemporaryDirectory(prefix="ilrs-descent-") as scratch:
        store = (workdir or Path(scratch)) / "fsw-store.sqlite"
        def descent_go() -> dict[str, Any]:  # tracked now: the truth with the ground's seeded errors
            return orbit_determination(plant).to_dict()

        computer = FlightComputer(store, server, seed, parameters, on_event, tuple(options.ground_requests),
                                  descent_go if options.ground_go else None, options.go_delay_s, options.uplink,
                                  options.uplink_frame)
        if on_telemetry is not None:
            computer.vehicle.ctx.telemetry.add_sink(on_telemetry)
        go_verdicts = [computer]
        over = descent_over(computer)
        reset_below = options.reset_below_m
        if reset_below is not None:
            # The first boot dies in the descent (no orderly stop: the store keeps what it wrote).
            computer.fly(lambda: over() or (not plant.landed and plant.height_above_ground < reset_below), stop=False)
            events += computer.events
            if not over():
                height_at_reset, engine_on_at_reset = plant.height_above_ground, bool(plant.engine_on)
                reset_t = plant.t
                computer = FlightComputer(store, server, seed, parameters, on_event)
                if on_telemetry is not None:
                    computer.vehicle.ctx.telemetry.add_sink(on_telemetry)
                go_verdicts.append(computer)
                over = descent_over(computer)
        if reset_below is None or height_at_reset is not None:
            computer.fly(over, stop=True)
            events += computer.events
    states = [args["dest"] for name, args in events if name == "MISSION_TRANSITION"]
    imu = world.devices["imu"]
    return DescentRecord(
        seed=seed, faults=faults, parameters=dict(options.parameters), touchdown=plant.touchdown,
        ignitions=world.ignitions["main_engine"], propellant_used_kg=plant.config.propellant_kg - plant.propellant,
        final_height_m=0.0 if plant.landed else plant.height_above_ground,
        final_vertical_speed_m_s=plant.vu, ignition_t=world.ignition_t, plant_t=plant.t,
        flight_restarts=server.flight_restarts, height_at_reset_m=height_at_reset,
        engine_on_at_reset=engine_on_at_reset, reset_t=reset_t,
        height_when_guidance_landed_m=guidance_landed[0] if guidance_landed else None,
        go_verdict=next((c.go_verdict for c in go_verdicts if c.go_verdict is not None), None),
        imu_selections=list(imu.selections), imu_failed_at=imu.failed_at,
        outcomes=[args["outcome"] for name, args in events if name == "DESCENT_OUTCOME"],
        mission_states=["predescent_checks", *states], events=events, wall_s=time.perf_counter() - wall0,
    )
