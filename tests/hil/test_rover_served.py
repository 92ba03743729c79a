"""``ilrs-ground serve`` commands the rover through the lander's relay: five processes (rover plant with
its radio, rover flight software, lander flight software, the ground link, the ground server) and the
tools attached to the server: a ping and a parameter report addressed to the rover, a rover command
checked with the rover's dictionary, and the rover's telemetry at an attached session."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ground.remote import RemoteSession
from hil.rigs.mission_run import wait_for_line
from tests.hil.relayed_rover import PYTHON, process_env, relayed_rover

REPOSITORY = Path(__file__).resolve().parents[2]
ROVER_APID = 120


@dataclass
class Served:
    socket: Path
    dictionaries: tuple[str, ...]

    def tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ground.cli", "--server", str(self.socket), *self.dictionaries,
                               *args], capture_output=True, text=True, timeout=90, cwd=REPOSITORY,
                              stdin=subprocess.DEVNULL)


def export(path: Path, *vehicle: str) -> Path:
    subprocess.run([sys.executable, "-m", "fsw.cli", "dictionary", *vehicle, "--format", "json", "--output",
                    str(path)], check=True, cwd=REPOSITORY, timeout=60)
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("served-rover")
    dictionaries = ("--dictionary", str(export(tmp / "dictionary.json")),
                    "--rover-dictionary", str(export(tmp / "dictionary-rover.json", "--vehicle", "rover")))
    with relayed_rover(tmp) as processes:
        server = subprocess.Popen(
            [PYTHON, "-m", "ground.cli", *dictionaries, "--sequence-file", str(tmp / "sequence.json"),
             "serve", "--link", f"lander={tmp / 'ground.tty'}", "--listen", str(tmp / "ground.sock")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=process_env(), cwd=REPOSITORY)
        processes.append(server)
        assert wait_for_line(server, "ilrs-ground serve: ready", 30.0)
        yield Served(tmp / "ground.sock", dictionaries)


async def rover_values(socket: Path, until_mode: str | None, timeout: float = 60.0) -> tuple[object, ...]:
    """The rover's mode and battery and the lander's mode, as a session attached to the server sees
    them, once the rover has been heard (in ``until_mode`` when one is given)."""
    async with RemoteSession(str(socket), client_name="test") as session:
        rover = session.relayed[ROVER_APID]
        for _ in range(int(timeout / 0.2)):
            mode = rover.state.value("mode")
            if rover.state.value("rsurv_battery_soc") is not None and mode is not None and until_mode in (None, mode):
                break
            await session.wait_for_packet(0.2)
        return rover.state.value("mode"), rover.state.value("rsurv_battery_soc"), session.state.value("mode")


def test_the_server_commands_the_rover_through_the_lander_and_forwards_its_telemetry(served: Served) -> None:
    # The rover's telemetry reaches a session attached to the lander, in a table of its own.
    rover, soc, lander = asyncio.run(rover_values(served.socket, None))
    assert rover == "SAFE" and soc is not None and soc > 0.5 and lander is not None
    ping = served.tool("ping", "rover", "--count", "2", "--timeout", "20")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "2/2 pings completed" in ping.stdout and "ping 1: rover seq=" in ping.stdout
    params = served.tool("params", "rover:rover_speed_m_s", "rover:rover_array_pointing", "--timeout", "20")
    assert params.returncode == 0, params.stdout + params.stderr
    assert "rover_speed_m_s = 0.05 m/s" in params.stdout and "rover_array_pointing = True" in params.stdout
    send = served.tool("send", "rover:MODE_SET", "mode=NOMINAL", "--timeout", "20")
    assert send.returncode == 0 and "rover:MODE_SET mode=NOMINAL: => completed" in send.stdout, send.stdout
    refused = served.tool("send", "rover:GO_DESCENT")  # the lander's command, not in the rover's dictionary
    assert refused.returncode == 2 and "unknown command 'GO_DESCENT'" in refused.stderr
    rover, _, lander = asyncio.run(rover_values(served.socket, "NOMINAL"))
    assert rover == "NOMINAL" and lander != "NOMINAL"  # the rover's mode, not the lander's
