"""Command rejections and failures, each with the failure code reported to the ground."""

from __future__ import annotations

from typing import Any

from fsw.protocol.errors import FailureCode


class CommandRejected(Exception):
    """Raised before execution: reported as 1,2 (acceptance failed)."""

    def __init__(self, code: FailureCode, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class CommandStartFailed(CommandRejected):
    """Raised when execution cannot start: reported as 1,4."""


class CommandFailed(CommandRejected):
    """Raised during execution: reported as 1,8 (completion failed)."""


class NotAvailable(LookupError):
    """A value that does not exist yet (a device not read in this phase): telemetry shows it as
    "not available", it is not a fault."""
