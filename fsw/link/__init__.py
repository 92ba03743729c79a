"""Transport: an asyncio serial link carrying COBS-framed space packets (shared by fsw, hil, ground)."""

from .serial_link import LinkClosedError, LinkCounters, SerialLink

__all__ = ["LinkClosedError", "LinkCounters", "SerialLink"]
