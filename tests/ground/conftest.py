"""Shared fixtures: the dictionary exported from the flight code, and a live flight software
behind ``ilrs-hil link`` (real ptys, real processes) for the modules that need one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ground.dictionary import Dictionary
from hil.link import start_link_process, stop_link_process

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dictionary_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dictionary") / "dictionary.json"
    subprocess.run([sys.executable, "-m", "fsw.cli", "dictionary", "--format", "json", "--output", str(path)],
                   check=True, cwd=REPOSITORY, timeout=60)
    return path


@pytest.fixture(scope="session")
def dictionary(dictionary_path: Path) -> Dictionary:
    return Dictionary.load(dictionary_path)


@pytest.fixture(scope="session")
def rover_dictionary_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dictionary") / "dictionary-rover.json"
    subprocess.run([sys.executable, "-m", "fsw.cli", "dictionary", "--vehicle", "rover", "--format", "json",
                    "--output", str(path)], check=True, cwd=REPOSITORY, timeout=60)
    return path


@pytest.fixture(scope="session")
def rover_dictionary(rover_dictionary_path: Path) -> Dictionary:
    return Dictionary.load(rover_dictionary_path)


@dataclass
class LiveVehicle:
    port: str  # the ground end of the link
    dictionary_path: Path
    directory: Path

    def ground(self, *args: str, timeout: float = 60.0, global_args: tuple[str, ...] = ()
               ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ground.cli", "--port", self.port, "--dictionary", str(self.dictionary_path),
                   "--sequence-file", str(self.directory / "sequence.json"), *global_args, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPOSITORY,
                              stdin=subprocess.DEVNULL)


def start_vehicle(directory: Path, dictionary_path: Path, *link_args: str) -> Iterator[LiveVehicle]:
    ground_end, flight_end = directory / "ground", directory / "flight"
    link = start_link_process(ground_end, flight_end, *link_args)
    fsw = subprocess.Popen(
        [sys.executable, "-m", "fsw.cli", "run", "--port", str(flight_end), "--store", str(directory / "store.sqlite")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPOSITORY, start_new_session=True,
    )
    vehicle = LiveVehicle(str(ground_end), dictionary_path, directory)
    try:
        _wait_until_answering(vehicle, fsw)
        yield vehicle
    finally:
        if fsw.poll() is None:
            os.killpg(fsw.pid, signal.SIGTERM)
        try:
            fsw.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(fsw.pid, signal.SIGKILL)
            fsw.communicate()
        stop_link_process(link)


def _wait_until_answering(vehicle: LiveVehicle, fsw: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if fsw.poll() is not None:
            raise RuntimeError(f"flight software exited: {fsw.stderr.read() if fsw.stderr else ''}")
        if vehicle.ground("ping", "--count", "1", "--timeout", "2").returncode == 0:
            return
    raise RuntimeError("flight software never answered a ping")


@pytest.fixture(scope="module")
def vehicle(tmp_path_factory: pytest.TempPathFactory, dictionary_path: Path) -> Iterator[LiveVehicle]:
    yield from start_vehicle(tmp_path_factory.mktemp("vehicle"), dictionary_path)


async def until(condition: Callable[[], object], timeout: float = 8.0) -> None:
    """Until ``condition()`` holds, looking every 20 ms; the test fails at the timeout. Live runs wait
    for what they mean, not for a fixed time that a loaded host can outlast."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def until_shown(condition: Callable[[], object], pilot: Any, timeout: float = 8.0) -> None:
    """:func:`until` for a console under test: its pilot's pauses let the app run meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)
