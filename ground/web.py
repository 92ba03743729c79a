"""A read-only web page served by ``ilrs-ground serve --web HOST:PORT``: telemetry with limits and
staleness, the events, the command history and a live plot, for whoever watches without a terminal.

Plain HTTP/1.1 on asyncio (no framework): ``GET /`` is the page, ``GET /api/state?vehicle=NAME`` its
data as JSON, polled once a second. Nothing can be sent from it: there is no other route, and every
other method is refused (405).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .console.status import Freshness, awaiting_go, pending_critical
from .server import GroundServer, ServedVehicle
from .telemetry import Received, onboard_utc_text

PAGE = (Path(__file__).with_name("web_page.html")).read_text()
EVENTS_SHOWN = 50
HISTORY_SHOWN = 50


def state_document(vehicle: ServedVehicle, freshness: Freshness, now: float) -> dict[str, Any]:
    """Everything the page shows of one vehicle, as JSON-friendly values."""
    session = vehicle.session
    dictionary = session.dictionary
    points = []
    for name, sample in sorted(session.state.latest.items()):
        spec = dictionary.points.get(name)
        sid = spec.structure if spec else 0
        age = max(0.0, now - sample.rx_time)
        points.append({"name": name, "structure": sid, "page": dictionary.structure_name(sid),
                       "value": spec.format(sample.value) if spec else str(sample.value),
                       "number": sample.value if isinstance(sample.value, int | float) else None,
                       "state": sample.state, "age": round(age, 1), "stale": freshness.stale(sid, age),
                       "yellow": spec.yellow if spec else None, "red": spec.red if spec else None})
    loop_now = asyncio.get_running_loop().time()
    return {
        "vehicle": vehicle.name, "now": now,
        "links": [{"vehicle": link.vehicle, "state": link.state, "age": link.age(now), "port": link.port}
                  for link in session.links()],
        "awaiting_go": awaiting_go(session.state),
        "critical_in_flight": [entry.label for entry in pending_critical(session.history)],
        "points": points,
        "alarms": [{"point": a.point, "state": a.state, "worst": a.worst, "acknowledged": a.acknowledged}
                   for a in session.state.alarms.values()],
        "events": [{"time": onboard_utc_text(e.onboard_time), "severity": e.decoded.get("severity"),
                    "name": e.decoded.get("name"), "text": e.decoded.get("text")}
                   for e in list(session.recent_events)[-EVENTS_SHOWN:]],
        "history": [{"number": e.number, "command": e.label, "status": e.status_at(loop_now),
                     "code": e.failure_code, "stages": e.stages, "by": e.origin}
                    for e in session.history[-HISTORY_SHOWN:]],
    }


class WebPage:
    def __init__(self, server: GroundServer) -> None:
        self.server = server
        self.freshness = {name: Freshness(vehicle.session.link_delay) for name, vehicle in server.vehicles.items()}
        for name, vehicle in server.vehicles.items():
            vehicle.session.add_listener(self._timer(self.freshness[name]))

    @staticmethod
    def _timer(freshness: Freshness) -> Callable[[Received], None]:
        def saw(received: Received) -> None:
            if received.kind == "hk":
                freshness.saw(received.decoded["sid"], received.rx_time)

        return saw

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)).strip():
                pass  # headers: nothing in them matters to a read-only page
            method, target, *_ = [*request.decode("latin-1").split(), "", ""]
            status, kind, body = self.answer(method, target)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                         "Cache-Control: no-store\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, OSError, ValueError):
            pass
        finally:
            writer.close()

    def answer(self, method: str, target: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"read-only: GET only\n"
        url = urlsplit(target)
        if url.path == "/":
            return "200 OK", "text/html; charset=utf-8", PAGE.encode()
        if url.path == "/api/state":
            wanted = parse_qs(url.query).get("vehicle", [None])[0]
            vehicle = self.server.vehicles.get(wanted or "") or next(iter(self.server.vehicles.values()))
            document = state_document(vehicle, self.freshness[vehicle.name], time.time())
            document["vehicles"] = sorted(self.server.vehicles)
            return "200 OK", "application/json", json.dumps(document, default=str).encode()
        return "404 Not Found", "text/plain", b"not found\n"


async def start_web(server: GroundServer, address: str) -> asyncio.Server:
    host, _, port = address.rpartition(":")
    page = WebPage(server)
    return await asyncio.start_server(page.handle, host or "127.0.0.1", int(port))
