"""Software bus: publish/subscribe by message id, bounded queues with drop counters (cFS SB style)."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DEPTH = 64


@dataclass(eq=False)
class Subscription:
    """A bounded pipe. When full, a new message is dropped and counted (the sender never blocks)."""

    msg_id: str
    depth: int = DEFAULT_DEPTH
    dropped: int = 0
    delivered: int = 0
    _queue: deque[Any] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def deliver(self, message: Any) -> bool:
        if len(self._queue) >= self.depth:
            self.dropped += 1
            return False
        self._queue.append(message)
        self.delivered += 1
        self._ready.set()
        return True

    def get_nowait(self) -> Any | None:
        if not self._queue:
            return None
        message = self._queue.popleft()
        if not self._queue:
            self._ready.clear()
        return message

    async def get(self) -> Any:
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self.get_nowait()

    def __len__(self) -> int:
        return len(self._queue)


class SoftwareBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscription]] = defaultdict(list)
        self.published = 0
        self.unrouted = 0

    def subscribe(self, msg_id: str, depth: int = DEFAULT_DEPTH) -> Subscription:
        subscription = Subscription(msg_id, depth)
        self._subscribers[msg_id].append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.msg_id, [])
        if subscription in subscribers:
            subscribers.remove(subscription)

    def publish(self, msg_id: str, message: Any) -> int:
        """Deliver to every subscriber of ``msg_id``; returns how many accepted it."""
        self.published += 1
        subscribers = self._subscribers.get(msg_id)
        if not subscribers:
            self.unrouted += 1
            return 0
        return sum(subscription.deliver(message) for subscription in subscribers)

    @property
    def dropped(self) -> int:
        return sum(s.dropped for subs in self._subscribers.values() for s in subs)
