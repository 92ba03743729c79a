"""Serial link emulation for the bench: pty null-modem bridge with seeded impairment.

- ``LinkImpairment`` / ``ImpairmentConfig``: sans-IO model of one direction (delay, UART pacing,
  COBS frame loss, bit errors, outages).
- ``PtyPair`` / ``NullModemBridge``: two raw ptys joined in-process, inside an asyncio loop.
- ``start_link_process`` / ``running_link`` / ``stop_link_process`` / ``parse_counters``: the
  ``ilrs-hil link`` command as a child process.
"""

from .bridge import NullModemBridge, PtyPair
from .impairment import (
    BITS_PER_OCTET_8N1,
    EARTH_MOON_LIGHT_TIME_S,
    RELAY_UPLINK_BAUD,
    ImpairmentConfig,
    LinkImpairment,
    direction_rng,
)
from .process import LinkStartError, parse_counters, running_link, start_link_process, stop_link_process

__all__ = [
    "BITS_PER_OCTET_8N1",
    "EARTH_MOON_LIGHT_TIME_S",
    "RELAY_UPLINK_BAUD",
    "ImpairmentConfig",
    "LinkImpairment",
    "LinkStartError",
    "NullModemBridge",
    "PtyPair",
    "direction_rng",
    "parse_counters",
    "running_link",
    "start_link_process",
    "stop_link_process",
]
