"""The lean flight install: the distribution's runtime dependencies are only what the flight process
needs, and the flight path imports nothing from the ground, sim or test extras."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
FLIGHT = {"pyserial", "cbor2", "crcmod", "transitions", "cobs"}
PI = {"gpiozero", "smbus2"}

# Imports every flight software module, both device backends (emulator and pi) and what selects
# them, then names the distribution of every third-party module that got loaded. Names that do not
# exist (in this layout) are passed over.
PROBE = """
import importlib, json, pkgutil, sys
from importlib.metadata import packages_distributions

def load(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if not name.startswith(error.name or "?"):
            raise

for package in ("fsw", "hil.emulator", "hil.pi"):
    root = load(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        load(info.name)
for name in ("hil.platforms", "hil.config", "hil.watchdog", "hil.devicebus", "hil.plant_process"):
    load(name)
owners = packages_distributions()
loaded = {name.split(".")[0] for name in list(sys.modules)}
print(json.dumps(sorted({dist for name in loaded for dist in owners.get(name, ())})))
"""


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower()


def _closure(names: set[str]) -> set[str]:
    """The distributions and, recursively, their unconditional requirements."""
    from importlib.metadata import PackageNotFoundError, requires

    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            wanted = requires(name) or []
        except PackageNotFoundError:
            continue
        pending += [_name(item) for item in wanted if "extra ==" not in item]
    return seen


def test_runtime_dependencies_are_the_flight_set_and_the_rest_are_extras() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert {_name(item) for item in project["dependencies"]} == FLIGHT
    extras = {name: {_name(item) for item in items} for name, items in project["optional-dependencies"].items()}
    assert extras["pi"] == PI
    assert {"textual", "matplotlib"} <= extras["ground"]
    assert "matplotlib" in extras["sim"]
    assert "test" in extras


def test_flight_path_imports_only_flight_and_pi_dependencies() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    loaded = {name.lower().replace("_", "-") for name in json.loads(result.stdout)}
    allowed = {name.replace("_", "-") for name in _closure(FLIGHT | PI)} | {"ilrs-fsw"}
    assert loaded - allowed == set()
