"""The rover from the ground, through the lander's relay: addressed by its APID, decoded with its own
dictionary (``ilrs-fsw dictionary --vehicle rover``), its payload products received like the lander's.

Used by the mission procedure once the lander has deployed the rover: take it to NOMINAL, upload a
traverse, GO, wait for the end of the traverse and the downlinked product, and report the figures.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.file_pdu import FILE_PDU_SERVICE, PDU_TC_SUBTYPE, PDU_TM_SUBTYPE
from fsw.protocol.packet import PusTm
from ground.filetransfer import FileReceiver, ReceiverSession
from ground.procedure import Procedure, ProcedureFailed
from ground.session import GroundSession

# The rover's events worth a line in the procedure's log.
LOGGED = ("ROVER_LEG", "ROVER_REPLANNED", "ROVER_WAYPOINT_REACHED", "ROVER_PRODUCT", "ROVER_TRAVERSE_DONE",
          "ROVER_SLIP_STOP", "ROVER_CONTACT_LOST", "ROVER_NO_PATH", "ROVER_WAYPOINT_SKIPPED", "PROX_LINK")


class RoverLink:
    """The rover as seen through the lander: its commands, events, housekeeping and products."""

    def __init__(self, p: Procedure, dictionary: Path, products: Path) -> None:
        self.p = p
        if not isinstance(p.session, GroundSession):
            raise ProcedureFailed("the rover is driven from a session on the port (not through the ground server)")
        self.client = p.session.client
        data = json.loads(dictionary.read_text())
        self.apid = int(data["apid"])
        self.commands = {command["name"]: command["opcode"] for command in data["commands"]}
        self.event_names = {event["id"]: event["name"] for event in data["events"]}
        self.structures = sorted(int(sid) for sid in data["structures"])
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.values: dict[str, Any] = {}
        self.packets = 0
        self._changed = asyncio.Event()
        self.receiver = FileReceiver(products, self._uplink_pdu, rtt_s=2.0)
        self._files = ReceiverSession(self.receiver, asyncio.get_running_loop())
        self.client.listeners.append(self._on_tm)

    def _uplink_pdu(self, raw: bytes) -> None:
        record = self.client.send(FILE_PDU_SERVICE, PDU_TC_SUBTYPE, raw_data=raw, ack_flags=0, apid=self.apid)
        self.client.pending.pop(record.request_id, None)

    def _on_tm(self, tm: PusTm) -> None:
        if tm.apid != self.apid:
            return
        self.packets += 1
        if tm.service == 5 and 1 <= tm.subtype <= 4:
            event_id, args = appdata.decode(tm.source_data)
            name = self.event_names.get(event_id, f"0x{event_id:04X}")
            self.events.append((name, args))
            if name in LOGGED:
                self.p.log(f"  rover {name}: {args}")
        elif (tm.service, tm.subtype) == (3, 25):
            _, values = appdata.decode(tm.source_data)
            self.values.update(values)
        elif (tm.service, tm.subtype) == (FILE_PDU_SERVICE, PDU_TM_SUBTYPE):
            self._files.on_tm(tm)
        self._changed.set()

    async def wait_for(self, what: str, predicate: Any, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()
        self.p.log(f"rover: {what}")

    async def command(self, name: str, *args: Any, timeout: float = 30.0) -> None:
        record = self.client.send(8, 1, [self.commands[name], *args], apid=self.apid)
        await self.client.wait(record, timeout)
        if not record.completed or record.failure is not None:
            raise ProcedureFailed(f"rover {name}: {record.stage_names()}")
        self.p.log(f"rover {name} {' '.join(map(str, args))}: completed".replace("  ", " "))

    def seen(self, name: str) -> list[dict[str, Any]]:
        return [args for event, args in self.events if event == name]

    async def close(self) -> None:
        self.client.listeners.remove(self._on_tm)
        await self._files.close()


async def traverse(p: Procedure, dictionary: Path, products: Path, waypoints: list[list[Any]],
                   timeout: float, parked_hk_s: float | None = None) -> dict[str, Any]:
    """Drive the rover through ``waypoints`` ([east, north, science]) and return the ground's figures.
    ``parked_hk_s``: once the figures are in, every housekeeping structure of the parked rover is
    reported this seldom (PUS 3,31), so that a rover with nothing left to do does not fill the relay."""
    rover = RoverLink(p, dictionary, products)
    try:
        await rover.wait_for("its telemetry comes down through the lander", lambda: rover.packets > 0, timeout)
        await rover.command("MODE_SET", "NOMINAL")
        for east, north, science in waypoints:
            await rover.command("ROVER_WAYPOINT", float(east), float(north), bool(science))
        await rover.command("ROVER_GO")
        await rover.wait_for("traverse done", lambda: bool(rover.seen("ROVER_TRAVERSE_DONE")), timeout)
        expected = [args["name"] for args in rover.seen("ROVER_PRODUCT")]
        await rover.wait_for("products downlinked", lambda: all(n in rover.receiver.delivered for n in expected),
                             timeout)
        record = rover.client.send(3, 27, rover.structures, apid=rover.apid)
        await rover.client.wait(record, 10.0)
        await asyncio.sleep(1.0)
        products_received = {name: hashlib.sha256(_pixels(path.read_bytes())).hexdigest()
                             for name, path in rover.receiver.delivered.items()}
        done = rover.seen("ROVER_TRAVERSE_DONE")[-1]
        values = dict(rover.values)
        if parked_hk_s is not None:
            await park(rover, parked_hk_s)
        return {"apid": rover.apid, "reached": done.get("reached"), "waypoints": done.get("waypoints"),
                "odometer_m": values.get("rnav_odometer_m"), "hazards_seen": values.get("rtrav_hazards_seen"),
                "replans": values.get("rtrav_replans"), "images": values.get("rtrav_images"),
                "slip_stops": values.get("rtrav_slip_stops"), "energy_used_wh": values.get("rsurv_energy_used_wh"),
                "energy_at_s": values.get("rsurv_energy_at_s"),
                "battery_soc": values.get("rsurv_battery_soc"), "state": values.get("rtrav_state"),
                "position_m": [values.get("rnav_east_m"), values.get("rnav_north_m")],
                "tm_dropped": values.get("prox_tm_dropped"), "products": products_received,
                "packets": rover.packets}
    finally:
        await rover.close()


async def park(rover: RoverLink, hk_period_s: float) -> None:
    """Slow the parked rover's housekeeping: each structure every ``hk_period_s``, then park it
    (``ROVER_PARK``: with its ground hold, its time waits for the next go). Failures logged only."""
    record = rover.client.send(3, 31, [[sid, hk_period_s] for sid in rover.structures], apid=rover.apid)
    await rover.client.wait(record, 10.0)
    if record.completed and record.failure is None:
        rover.p.log(f"rover: housekeeping every {hk_period_s:g} s")
    else:
        rover.p.log(f"rover: housekeeping interval not changed: {record.stage_names()}")
    try:
        await rover.command("ROVER_PARK", timeout=10.0)
    except ProcedureFailed as error:
        rover.p.log(f"rover: not parked: {error}")


def _pixels(product: bytes) -> bytes:
    """A panoramic product: a 2-octet header length, the CBOR header, then the pixels."""
    length = int.from_bytes(product[:2], "big")
    return product[2 + length:]
