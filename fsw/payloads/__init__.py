"""Partner payload plug-ins.

A payload is one module defining a :class:`fsw.payloads.base.PayloadComponent` subclass, its
device Protocol, and a module attribute ``PAYLOAD`` naming the class; its device comes from the
platform (``Platform.payloads``, by payload name). The
built-in instruments are listed in :data:`BUILTIN`; a partner's package can add its own without
touching this tree through the entry-point group ``ilrs_fsw.payloads`` (value ``package.module``).
:func:`build_payloads` makes them for the topology; the core never imports a payload.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from fsw.core.context import Context

ENTRY_POINT_GROUP = "ilrs_fsw.payloads"
BUILTIN: dict[str, str] = {
    "camera": "fsw.payloads.camera",
    "neutron_dosimeter": "fsw.payloads.neutron_dosimeter",
    "radar": "fsw.payloads.radar",
}


def available() -> dict[str, str]:
    """Payload name -> module path: the built-ins, then any installed through entry points."""
    found = dict(BUILTIN)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value.split(":", 1)[0])
    return found


def load(name: str) -> type[Any]:
    modules = available()
    if name not in modules:
        raise KeyError(f"unknown payload {name!r}; known: {', '.join(sorted(modules))}")
    module = importlib.import_module(modules[name])
    payload: type[Any] = module.PAYLOAD
    return payload


def build_payloads(ctx: Context, names: list[str] | None = None, seed: int = 1,
                   devices: Mapping[str, object] | None = None) -> list[Any]:
    """Create the named payloads (default: every built-in one), each seeded from ``seed``, each on
    its device in ``devices`` (by payload name; a payload without one is absent); the topology adds them."""
    return [load(name)(ctx, seed=seed, device=(devices or {}).get(name))
            for name in (names if names is not None else list(BUILTIN))]
