"""Latches: a durable record that an irreversible act (a pyro, a separation, an ignition) fired.

``fire(name)`` writes the latch to the store with a full fsync *before* returning, so the caller
performs the act only once it is recorded: after a reset in the middle, the act is refused rather
than repeated. Firing a latch already set raises CommandFailed(ALREADY_FIRED).
"""

from __future__ import annotations

from typing import Any

from fsw.core.errors import CommandFailed
from fsw.protocol.errors import FailureCode

STORE_KEY = "latches"


class Latches:
    def __init__(self, store: Any, clock: Any) -> None:
        self.store = store
        self.clock = clock

    @property
    def fired(self) -> dict[str, float]:
        """Latch name -> on-board time at which it fired."""
        return dict(self.store.get(STORE_KEY, {}) or {})

    def is_fired(self, name: str) -> bool:
        return name in self.fired

    def fire(self, name: str) -> None:
        fired = self.fired
        if name in fired:
            raise CommandFailed(FailureCode.ALREADY_FIRED, f"{name} already fired at {fired[name]:.3f}")
        fired[name] = self.clock.onboard_time()
        self.store.put(STORE_KEY, fired, durable=True)
