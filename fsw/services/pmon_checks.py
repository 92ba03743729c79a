"""PUS 12 check types and check states, as ECSS-E-ST-70-41C names them (used by ``monitoring``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

UNCHECKED, INVALID = "UNCHECKED", "INVALID"
WITHIN_LIMITS, BELOW_LOW_LIMIT, ABOVE_HIGH_LIMIT = "WITHIN_LIMITS", "BELOW_LOW_LIMIT", "ABOVE_HIGH_LIMIT"
EXPECTED_VALUE, UNEXPECTED_VALUE = "EXPECTED_VALUE", "UNEXPECTED_VALUE"
WITHIN_THRESHOLDS, BELOW_LOW_THRESHOLD, ABOVE_HIGH_THRESHOLD = (
    "WITHIN_THRESHOLDS", "BELOW_LOW_THRESHOLD", "ABOVE_HIGH_THRESHOLD")
VIOLATIONS = frozenset({BELOW_LOW_LIMIT, ABOVE_HIGH_LIMIT, UNEXPECTED_VALUE, BELOW_LOW_THRESHOLD,
                        ABOVE_HIGH_THRESHOLD})
CHECK_TYPES = ("limit", "expected", "delta")


def number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class Check:
    kind: str  # limit | expected | delta
    first: Any  # low | expected value | low threshold
    second: Any  # high | mask | high threshold

    @classmethod
    def parse(cls, raw: Any) -> Check:
        if not isinstance(raw, list) or len(raw) != 3 or raw[0] not in CHECK_TYPES:
            raise ValueError(f"check must be [type, a, b] with type one of {', '.join(CHECK_TYPES)}")
        kind, first, second = raw
        if kind == "expected":
            if isinstance(first, list | dict) or first is None:
                raise ValueError("expected value must be a scalar")
            if second is not None and (isinstance(second, bool) or not isinstance(second, int) or second < 0
                                       or isinstance(first, bool) or not isinstance(first, int)):
                raise ValueError("a mask is a non-negative integer, with an integer expected value")
            return cls(kind, first, second)
        for bound in (first, second):
            if bound is not None and (isinstance(bound, bool) or not number(bound)):
                raise ValueError(f"{kind} bounds must be numbers or null")
        if first is None and second is None:
            raise ValueError(f"{kind} check needs at least one bound")
        if first is not None and second is not None and first > second:
            raise ValueError(f"low {first} above high {second}")
        return cls(kind, first, second)

    def to_cbor(self) -> list[Any]:
        return [self.kind, self.first, self.second]

    def evaluate(self, value: Any, previous: Any) -> str | None:
        """The check state for ``value`` (None: no verdict yet, a delta check's first sample)."""
        if self.kind == "expected":
            if self.second is not None:
                if isinstance(value, bool) or not isinstance(value, int):
                    return INVALID
                return EXPECTED_VALUE if value & self.second == self.first else UNEXPECTED_VALUE
            return EXPECTED_VALUE if value == self.first else UNEXPECTED_VALUE
        if not number(value):
            return INVALID
        if self.kind == "delta":
            if not number(previous):
                return None
            value = value - previous
            low, high, within = BELOW_LOW_THRESHOLD, ABOVE_HIGH_THRESHOLD, WITHIN_THRESHOLDS
        else:
            low, high, within = BELOW_LOW_LIMIT, ABOVE_HIGH_LIMIT, WITHIN_LIMITS
        if self.first is not None and value < self.first:
            return low
        if self.second is not None and value > self.second:
            return high
        return within

    def limit(self, state: str) -> Any:
        """The bound crossed (or the expected value) for a transition report."""
        if state in (BELOW_LOW_LIMIT, BELOW_LOW_THRESHOLD):
            return self.first
        if state in (ABOVE_HIGH_LIMIT, ABOVE_HIGH_THRESHOLD):
            return self.second
        return self.first if self.kind == "expected" else None
