"""``ilrs-fsw run`` as a real child process on a pty link, with a GroundClient at the other end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fsw.protocol import appdata
from fsw.protocol.packet import PusTm
from ground.client import GroundClient
from hil.link.process import running_link


class FlightProcess:
    def __init__(self, port: Path, store: Path, *extra: str) -> None:
        self.port = port
        self.store = store
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fsw.cli", "run", "--port", str(self.port), "--store", str(self.store),
             *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class Ground:
    """A GroundClient that keeps every TM it receives, with waits on what arrived."""

    def __init__(self, client: GroundClient) -> None:
        self.client = client
        self.tm: list[PusTm] = []
        client.listeners.append(self.tm.append)

    async def until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Wait for ``predicate()`` to be truthy (checked as TM arrives); return its value or None."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value or asyncio.get_running_loop().time() > deadline:
                return value
            await asyncio.sleep(0.02)

    def events(self, since: int = 0) -> list[tuple[int, dict[str, Any]]]:
        return [tuple(appdata.decode(tm.source_data)) for tm in self.tm[since:]  # type: ignore[misc]
                if tm.service == 5 and 1 <= tm.subtype <= 4]

    def hk(self, sid: int, since: int = 0) -> list[dict[str, Any]]:
        return [values for tm in self.tm[since:] if (tm.service, tm.subtype) == (3, 25)
                for structure, values in [appdata.decode(tm.source_data)] if structure == sid]

    def reports(self, service: int, subtype: int, since: int = 0) -> list[Any]:
        return [appdata.decode(tm.source_data) for tm in self.tm[since:]
                if (tm.service, tm.subtype) == (service, subtype)]


@contextlib.asynccontextmanager
async def flight_and_ground(tmp: Path, *extra: str, store: Path | None = None,
                            start: bool = True) -> AsyncIterator[tuple[FlightProcess, Ground]]:
    fsw_port, ground_port = tmp / "fsw", tmp / "ground"
    with running_link(fsw_port, ground_port):
        flight = FlightProcess(fsw_port, store or tmp / "store.sqlite", "--watchdog", "none", *extra)
        if start:
            flight.start()
        client = GroundClient(str(ground_port))
        await client.open()
        ground = Ground(client)
        try:
            yield flight, ground
        finally:
            await client.close()
            if flight.process is not None:
                flight.stop()
