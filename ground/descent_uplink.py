"""The descent uplink from the ground: the orbit-determination product turned into telecommands.

Before the go for powered descent the ground sends the lander its state vector (position and
velocity in the Moon-centred descent frame, MCDF, with the epoch on the descent sensors' time
base), the landing target and the coarse terrain map of the approach (docs/operations.md, "Descent
uplink"). The product is a JSON object (the emulated ground's comes from the plant,
``ilrs-hil plant --od-product``)::

    {"frame": "MCDF", "epoch_s": 0.0, "position_m": [x, y, z], "velocity_m_s": [vx, vy, vz],
     "target_downrange_m": ..., "target_crossrange_m": ..., "map_spacing_m": ..., "map_heights_m": [...],
     "moon_pole": [kx, ky, kz], "frame_aligned_epoch_s": 0.0}

:func:`uplink_commands` gives the commands in the order to send them: state, the frame's turn (when
the product gives the Moon's pole), target, map begin, then the map's segments (heights as
big-endian 32-bit floats, with the CRC-32 over all of them).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

MAP_SEGMENT_POINTS = 256  # as many heights as one DESCENT_MAP_SEGMENT takes


class ProductError(ValueError):
    """An orbit-determination product that cannot be uplinked."""


def load_product(path: Path) -> dict[str, Any]:
    try:
        product = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ProductError(f"{path}: {error}") from error
    if not isinstance(product, dict):
        raise ProductError(f"{path}: not a JSON object")
    return product


def uplink_commands(product: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(command name, arguments) to send, in order."""
    try:
        x, y, z = (float(value) for value in product["position_m"])
        vx, vy, vz = (float(value) for value in product["velocity_m_s"])
        heights = [float(value) for value in product["map_heights_m"]]
        commands: list[tuple[str, dict[str, Any]]] = [
            ("DESCENT_STATE_SET", {"epoch_s": float(product["epoch_s"]), "frame": str(product.get("frame", "MCDF")),
                                   "x_m": x, "y_m": y, "z_m": z, "vx_m_s": vx, "vy_m_s": vy, "vz_m_s": vz}),
        ]
        if "moon_pole" in product:
            kx, ky, kz = (float(value) for value in product["moon_pole"])
            aligned = float(product.get("frame_aligned_epoch_s", 0.0))
            frame = {"pole_x": kx, "pole_y": ky, "pole_z": kz, "aligned_epoch_s": aligned}
            commands.append(("DESCENT_FRAME_SET", frame))
        commands.append(("DESCENT_TARGET_SET", {"downrange_m": float(product["target_downrange_m"]),
                                                "crossrange_m": float(product["target_crossrange_m"])}))
        spacing = float(product["map_spacing_m"])
    except (KeyError, TypeError, ValueError) as error:
        raise ProductError(f"orbit-determination product: {error!r}") from error
    packed = struct.pack(f">{len(heights)}f", *heights)
    commands.append(("DESCENT_MAP_BEGIN", {"spacing_m": spacing, "points": len(heights), "crc32": zlib.crc32(packed)}))
    for first in range(0, len(heights), MAP_SEGMENT_POINTS):
        segment = packed[4 * first:4 * (first + MAP_SEGMENT_POINTS)]
        commands.append(("DESCENT_MAP_SEGMENT", {"first": first, "heights": segment}))
    return commands
