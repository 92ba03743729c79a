"""The rover and the lander relaying for it, as separate processes over ptys: the rover plant with its
radio, the ground link, and the lander's and the rover's flight software (shared by the relay tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hil.link.process import running_link
from hil.rigs.mission_run import stop, wait_for_line

PYTHON = sys.executable


def process_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


@contextmanager
def relayed_rover(tmp: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Start the four; the ground's end of the link is ``tmp / "ground.tty"``. Yields the list of
    processes, to which a caller may add its own: all are stopped on exit, the last started first."""
    env = process_env()
    plant = subprocess.Popen([PYTHON, "-m", "hil.cli", "rover-plant", "--devices", str(tmp / "rover-dev.tty"),
                              "--rover-link", str(tmp / "rover-radio.tty"),
                              "--lander-link", str(tmp / "lander-radio.tty"),
                              "--report", str(tmp / "rover-plant.json")], stdout=subprocess.PIPE, text=True, env=env)
    processes: list[subprocess.Popen[str]] = [plant]
    try:
        assert wait_for_line(plant, "rover plant ready", 20.0)
        with running_link(tmp / "fsw.tty", tmp / "ground.tty"):
            for command in (
                ["--port", str(tmp / "fsw.tty"), "--store", str(tmp / "lander.sqlite"), "--no-mission",
                 "--rover-port", str(tmp / "lander-radio.tty"), "--watchdog", "none"],
                ["--vehicle", "rover", "--port", str(tmp / "rover-radio.tty"), "--plant-port",
                 str(tmp / "rover-dev.tty"), "--store", str(tmp / "rover.sqlite"), "--watchdog", "none"],
            ):
                processes.append(subprocess.Popen([PYTHON, "-m", "fsw.cli", "run", *command], text=True, env=env,
                                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            yield processes
    finally:
        for process in reversed(processes):
            stop(process)
