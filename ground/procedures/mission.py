"""The sample-return mission from the ground: go/no-go commands at each ground decision point,
a progress line per phase, and the figures the operator reports at the end.

The landing itself is autonomous; the ground takes the vehicle from SAFE to NOMINAL, uplinks the
descent state vector, target and terrain map from its orbit-determination product (the file named
by ``ILRS_MISSION_OD_PRODUCT``, see ``ground/descent_uplink.py``), then gives the go for powered
descent, sampling, liftoff, autonomous short-range rendezvous and trans-Earth
injection when the vehicle asks for it (each go is critical: the session arms it first).

Run with: ilrs-ground --port PORT --archive DB run ground/procedures/mission.py
Writes ``mission-ground.json`` next to the archive (or in the working directory).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from fsw.protocol import PusTc
from ground.client import GROUND_SOURCE_ID
from ground.descent_uplink import load_product, uplink_commands
from ground.procedure import Procedure, ProcedureFailed
from ground.telemetry import Received

# (machine, state waiting for the ground) -> the go command it waits for
GO_COMMANDS = {("mission", "awaiting_descent_go"): "GO_DESCENT", ("sampling", "awaiting_go"): "GO_SAMPLING",
               ("ascent", "awaiting_go"): "GO_ASCENT", ("rendezvous", "awaiting_go"): "GO_SHORT_RANGE",
               ("return", "awaiting_go"): "GO_TEI"}
END_STATES = {"complete", "safe"}
MISSION_TIMEOUT_S = float(os.environ.get("ILRS_MISSION_TIMEOUT_S", "600"))
# When set (``make run``): deploy the rover on the surface and drive it, addressed through the lander's
# relay with the rover's own dictionary (this file), along ILRS_MISSION_ROVER_WAYPOINTS (JSON).
ROVER_DICTIONARY = os.environ.get("ILRS_MISSION_ROVER_DICTIONARY")
ROVER_WAYPOINTS = json.loads(os.environ.get("ILRS_MISSION_ROVER_WAYPOINTS", "[]"))
# When set: a time-tagged ping (PUS 11,4) released this many on-board seconds after the hold is set.
TIME_TAGGED_PING_S = os.environ.get("ILRS_MISSION_TIME_TAGGED_PING_S")
# Once its traverse is done and its figures are in, the parked rover reports each housekeeping
# structure every 10 min instead of every 1-5 s: on the afap clock its quiet hours would otherwise
# fill the relay and the ground's archive with hundreds of packets a wall second for the rest of the
# mission.
PARKED_ROVER_HK_S = 600.0
# The one-shot reports (3,27) go down before the request's completion report: they are normally in
# when it is; a loaded host may hold a few back this long at most.
FINAL_HOUSEKEEPING_TIMEOUT_S = 2.0
# The orbit-determination product to uplink before the go for powered descent (JSON).
OD_PRODUCT = os.environ.get("ILRS_MISSION_OD_PRODUCT")


async def procedure(p: Procedure) -> None:
    session = p.session
    transitions: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    values: dict[str, Any] = {}
    seen_events: list[str] = []
    reported: set[int] = set()  # structures whose housekeeping came since the last clear

    def on_packet(received: Received) -> None:
        if received.kind == "event":
            name = received.decoded.get("name", "")
            seen_events.append(name)
            if name.endswith("_TRANSITION"):
                transitions.put_nowait(received.decoded.get("args", {}))
            elif name.endswith("_RESUMED"):
                # After a restart a machine waiting for a go may never have received it: ask again.
                args = received.decoded.get("args", {})
                transitions.put_nowait({"machine": args.get("machine"), "source": "restart", "dest": args.get("state")})
            elif name in ("DESCENT_OUTCOME", "DOCKED", "ASCENT_IGNITION") or received.decoded["severity"] == "HIGH":
                p.log(f"  event {name}: {received.decoded.get('text', '')}")
        elif received.kind == "hk":
            values.update(received.decoded.get("values", {}))
            if received.apid == session.dictionary.apid:
                reported.add(received.decoded.get("sid", -1))

    session.add_listener(on_packet)
    await p.ping()
    # Time on the vehicle must wait for the ground at each go/no-go (it runs as fast as possible).
    parameter = session.dictionary.parameter("ground_hold")
    entry = await session.request(20, 3, [[parameter.id, True]])
    p.check(entry.ok, "ground_hold set")
    # The vehicle boots in SAFE, which refuses every go: the ground takes it to NOMINAL.
    await p.send("MODE_SET", mode="NOMINAL")
    time_tagged_seq = None
    if TIME_TAGGED_PING_S is not None and session.last_verification_onboard is not None:
        ping = PusTc(session.dictionary.apid, 17, 1, b"", await session.reserve_sequence(),
                     source_id=GROUND_SOURCE_ID)
        release = session.last_verification_onboard + float(TIME_TAGGED_PING_S)
        entry = await session.request(11, 4, [[release, ping.pack()]])
        p.check(entry.ok, "time-tagged ping inserted")
        time_tagged_seq = ping.seq_count
    await uplink_descent(p)
    p.log("mission: waiting for the vehicle (landing is autonomous)")
    outcome = "timeout"
    rover_task: asyncio.Task[dict[str, Any]] | None = None
    try:
        async with asyncio.timeout(MISSION_TIMEOUT_S):
            while True:
                change = await transitions.get()
                machine, dest = change.get("machine"), change.get("dest")
                go = GO_COMMANDS.get((str(machine), str(dest)))
                if machine == "mission" or go:
                    p.log(f"phase {machine}: {change.get('source')} -> {dest}")
                if (machine, dest) == ("mission", "surface_operations") and ROVER_DICTIONARY and rover_task is None:
                    # The deploy before the sampling's go: until that go the lander's time stands
                    # still (ground_hold), so the deploy's arm and fire come at one instant of flight
                    # time. After it, flight time runs on with the drilling, and a fire that reached
                    # the lander later than the arm's window (10 flight seconds, a fraction of a wall
                    # millisecond on the surface) was refused: the rover was never deployed.
                    deploy_refused = await deploy_rover(p)
                    rover_task = asyncio.ensure_future(drive_rover(p, deploy_refused))
                if go:
                    try:
                        await p.send(go)
                    except ProcedureFailed as failure:  # lost to a restart: the RESUMED event asks again
                        p.log(f"  {go} not completed: {failure}")
                if machine == "mission" and dest in END_STATES:
                    outcome = "success" if dest == "complete" else "safe"
                    break
    except TimeoutError:
        p.log(f"mission did not end within {MISSION_TIMEOUT_S:.0f} s")
    rover: dict[str, Any] | None = None
    if rover_task is not None:
        try:
            rover = await rover_task
        except (ProcedureFailed, TimeoutError) as failure:
            p.log(f"rover: {type(failure).__name__} {failure}")
            rover = {"failed": str(failure) or type(failure).__name__}
    # Fresh housekeeping of every structure for the final figures.
    structures = sorted(int(sid) for sid in session.dictionary.structures)
    reported.clear()
    await session.request(3, 27, structures)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FINAL_HOUSEKEEPING_TIMEOUT_S
    while not reported.issuperset(structures) and loop.time() < deadline:
        await session.wait_for_packet(deadline - loop.time())
    summary = {
        "outcome": outcome,
        # The mass measured at sealing: a fresh load-cell reading differs with when it is asked for.
        "sample_mass_g": values.get("sealed_mass_g", values.get("sample_mass_g")),
        "docked": bool(values.get("claws_latched")) or "DOCKED" in seen_events,
        "tei_delta_v_mps": _sum(values.get("tei_1_delta_v_m_s"), values.get("tei_2_delta_v_m_s")),
        "returned": bool(values.get("returned")),
        "events_seen": len(seen_events),
        "time_tagged_seq": time_tagged_seq,
        "rover": rover,
    }
    out = Path(os.environ.get("ILRS_MISSION_GROUND_JSON", "mission-ground.json"))
    out.write_text(json.dumps(summary, indent=2) + "\n")
    p.log(f"mission outcome {outcome}: {summary}")
    p.check(outcome == "success", "mission complete")


async def uplink_descent(p: Procedure) -> None:
    """The descent state vector, target and terrain map, each command verified (PUS 1)."""
    if OD_PRODUCT is None:
        p.log("no orbit-determination product (ILRS_MISSION_OD_PRODUCT): the go for descent will be refused")
        return
    commands = uplink_commands(load_product(Path(OD_PRODUCT)))
    p.log(f"descent uplink: state, target and terrain map in {len(commands)} commands")
    segments = 0
    for name, args in commands:
        if name != "DESCENT_MAP_SEGMENT":
            await p.send(name, **args)
            continue
        entry = await p.session.command(name, args)  # many: one line for them all
        p.check(entry.ok, f"{name} first={args['first']} completed")
        segments += 1
    p.log(f"  terrain map uplinked in {segments} segments")


async def deploy_rover(p: Procedure) -> str | None:
    """ROVER_DEPLOY on the lander (critical: armed first); why it was refused, or None."""
    try:
        await p.send("ROVER_DEPLOY")
    except ProcedureFailed as failure:
        p.log(f"  ROVER_DEPLOY not completed: {failure}")
        return str(failure) or type(failure).__name__
    return None


async def drive_rover(p: Procedure, deploy_refused: str | None) -> dict[str, Any]:
    """The rover's traverse through the relay, once deployed."""
    from ground.procedures.rover import traverse

    assert ROVER_DICTIONARY is not None
    if deploy_refused is not None:
        return {"failed": deploy_refused}
    products = Path(os.environ.get("ILRS_MISSION_GROUND_JSON", "mission-ground.json")).with_name("rover-products")
    return await traverse(p, Path(ROVER_DICTIONARY), products, ROVER_WAYPOINTS, MISSION_TIMEOUT_S,
                          parked_hk_s=PARKED_ROVER_HK_S)


def _sum(*values: Any) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return round(sum(numbers), 2) if numbers else None
