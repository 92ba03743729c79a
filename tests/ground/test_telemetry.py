"""Decoded telemetry as the archive and the displays keep it."""

from __future__ import annotations

import enum
import json

from ground.telemetry import jsonable


class Colour(enum.IntEnum):
    RED = 2


def test_cbor_values_become_json_values_at_any_depth() -> None:
    value = {"a": 1.5, "b": [1, True, None, "x", b"\x01\xff"], 7: (2, {"c": bytearray(b"\x0a")}),
             "d": Colour.RED, "e": {"f": [b"\x00", 3.0]}, "g": {1.0, 2.0}}
    out = jsonable(value)
    assert out == {"a": 1.5, "b": [1, True, None, "x", "01ff"], "7": [2, {"c": "0a"}], "d": Colour.RED,
                   "e": {"f": ["00", 3.0]}, "g": str({1.0, 2.0})}
    assert json.loads(json.dumps(out)) == {**out, "d": 2}  # all of it JSON (an IntEnum as its number)
    assert jsonable(b"\xab") == "ab" and jsonable(4) == 4 and jsonable(None) is None
