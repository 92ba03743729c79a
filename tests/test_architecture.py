"""The allowed arrows between packages (docs/architecture.md), checked on every module's imports.

- ``fsw`` imports itself, the standard library and its runtime dependencies: nothing of ``hil`` or
  ``ground``, no ground or bench library.
- ``ground`` imports only ``fsw.protocol`` and ``fsw.link`` of the flight software, never ``hil``.
- ``hil`` (the plant, the device backends, the links) imports only the flight software's device
  ports, protocol and link; the rigs in ``hil/rigs``, whose job is to run the flight software against
  the plant, may start any of it.
- The executive core imports no service: the topology wires them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLIGHT_DEPENDENCIES = {"serial", "cbor2", "crcmod", "transitions", "cobs"}
PORTS = ("fsw.devices", "fsw.protocol", "fsw.link")
TYPING_ONLY = {"__future__", "_typeshed"}  # the type checker's standard-library stubs


def imports(path: Path) -> list[tuple[int, str]]:
    """Absolute module names imported by a file (relative imports resolved against its package)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def broken_arrow(source: str, module: str) -> str | None:
    """Why ``source`` (a module name) may not import ``module``, or None when it may."""
    top = module.split(".")[0]
    if source.startswith("fsw."):
        if top == "fsw" or top in sys.stdlib_module_names or top in FLIGHT_DEPENDENCIES or top in TYPING_ONLY:
            if source == "fsw.core.executive" and within(module, "fsw.services"):
                return "the executive core names no service (the topology wires them)"
            return None
        return "the flight software imports nothing outside itself but the standard library and its dependencies"
    if source.startswith("ground."):
        if top == "hil":
            return "the ground knows no hardware"
        if top == "fsw" and module != "fsw" and not within(module, ("fsw.protocol", "fsw.link")):
            return "the ground uses only the flight software's protocol and link layers"
        return None
    plant_side = source.startswith("hil.") and not source.startswith("hil.rigs")
    if plant_side and top == "fsw" and module != "fsw" and not within(module, PORTS):
        return "platforms and the plant see only the flight software's device ports, protocol and link"
    return None


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("fsw", "hil", "ground"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((name.removesuffix(".__init__"), path))
    return found


def test_every_import_follows_an_allowed_arrow() -> None:
    broken = [f"{path.relative_to(ROOT)}:{line} imports {module}: {why}"
              for source, path in modules() for line, module in imports(path)
              if (why := broken_arrow(source, module)) is not None]
    assert broken == [], "\n".join(broken)


@pytest.mark.parametrize(("source", "module", "allowed"), [
    ("fsw.gnc.navigation", "hil.emulator.dynamics", False),
    ("fsw.app", "hil.platforms", False),
    ("fsw.services.events", "textual", False),
    ("fsw.core.executive", "fsw.services.dispatcher", False),
    ("fsw.topology", "fsw.services.dispatcher", True),
    ("fsw.link.serial_link", "serial", True),
    ("ground.cli", "fsw.core.dictionary", False),
    ("ground.cli", "fsw.protocol.packet", True),
    ("ground.console", "hil.link", False),
    ("hil.emulator.plant", "fsw.gnc.orbit", False),
    ("hil.emulator.surface", "fsw.core.store", False),
    ("hil.platforms", "fsw.devices.platform", True),
    ("hil.rigs.closed_loop", "fsw.gnc.controller", True),
])
def test_the_rule_itself_catches_what_it_should(source: str, module: str, allowed: bool) -> None:
    assert (broken_arrow(source, module) is None) is allowed


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    # The executive's package importing a sibling relatively is still fsw.core.<sibling>.
    names = [module for _, module in imports(ROOT / "fsw" / "core" / "component.py")]
    assert "fsw.core.declarations" in names
