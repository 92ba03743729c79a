"""The server's read-only web page: telemetry with limits and staleness, events, the command history
and a live plot, checked as JSON and, where Debian's Chromium is installed, rendered headless."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import shutil
import time
import urllib.request
from collections.abc import AsyncIterator

import pytest

from fsw.protocol import UNIX_TO_TAI_1958
from ground.dictionary import Dictionary
from ground.server import GroundServer
from ground.session import GroundSession
from ground.telemetry import Received
from ground.web import start_web


@pytest.fixture
async def page(dictionary: Dictionary) -> AsyncIterator[tuple[GroundSession, str]]:
    master, slave = pty.openpty()  # nobody answers: the page shows what the test feeds the session
    session = GroundSession(os.ttyname(slave), dictionary, vehicle="lander")
    server = GroundServer(dictionary, [session], [])
    await server.start()
    web = await start_web(server, "127.0.0.1:0")
    try:
        yield session, f"http://127.0.0.1:{web.sockets[0].getsockname()[1]}"
    finally:
        web.close()
        await server.close()
        os.close(master)
        os.close(slave)


def feed(session: GroundSession) -> None:
    now = time.time()
    for sid, values, age in ((1, {"mode": "NOMINAL", "fast_jitter_p99_ms": 12.0}, 0.0),
                             (40, {"mission_state": "awaiting_descent_go", "mission_awaiting_go": True}, 0.0),
                             (12, {"watchdog_bites": 0}, 60.0)):
        session.state.take(Received(now - age, b"", "hk", 100, 3, 25, 0, now - age + UNIX_TO_TAI_1958,
                                    {"sid": sid, "values": values}))
    event = Received(now, b"", "event", 100, 5, 4, 0, now + UNIX_TO_TAI_1958,
                     {"id": 1, "name": "SAFE_ENTERED", "severity": "HIGH", "text": "entered SAFE"})
    session.recent_events.append(event)
    session.state.take(event)


async def fetch(url: str, method: str = "GET") -> tuple[int, bytes]:
    def get() -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    return await asyncio.to_thread(get)


async def test_state_as_json_and_nothing_but_get(page: tuple[GroundSession, str]) -> None:
    session, url = page
    feed(session)
    status, body = await fetch(f"{url}/api/state")
    assert status == 200
    state = json.loads(body)
    points = {p["name"]: p for p in state["points"]}
    assert points["fast_jitter_p99_ms"]["state"] == "red" and points["fast_jitter_p99_ms"]["value"] == "12 ms"
    assert points["watchdog_bites"]["stale"] is True and points["mode"]["stale"] is False
    assert state["awaiting_go"] == ["mission (awaiting_descent_go)"]
    assert state["alarms"][0]["point"] == "fast_jitter_p99_ms"
    assert state["events"][-1]["name"] == "SAFE_ENTERED"
    assert state["vehicles"] == ["lander"]
    assert (await fetch(f"{url}/"))[1].startswith(b"<!doctype html>")
    assert (await fetch(f"{url}/api/state", method="POST"))[0] == 405  # read-only
    assert (await fetch(f"{url}/api/command"))[0] == 404


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's)")
async def test_the_page_renders_in_a_browser(page: tuple[GroundSession, str]) -> None:
    session, url = page
    feed(session)
    assert CHROMIUM is not None
    html = ""
    for _ in range(3):  # a loaded machine may dump the page before its first refresh: look again
        browser = await asyncio.create_subprocess_exec(
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
            f"{url}/", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        dom, _ = await asyncio.wait_for(browser.communicate(), 120)
        html = dom.decode()
        if "watchdog_bites" in html:
            break
    assert '<span class="ok">● lander' in html or '<span class="silent">● lander' in html
    assert "AWAITING GO: mission (awaiting_descent_go)" in html
    stale = html.split('<tr class="stale ok"><td>health</td><td>watchdog_bites</td><td>0</td><td></td><td>')[1]
    assert stale.split("</td>")[0].endswith(" s STALE")  # dimmed, with its age
    # (fresh when fed; a browser slow to start on a loaded machine may see it stale by then)
    assert re.search('<tr class="(stale )?red"><td>exec</td><td>fast_jitter_p99_ms</td><td>12 ms</td><td>RED</td>',
                     html)
    assert "HIGH SAFE_ENTERED: entered SAFE" in html
