"""PUS 17 test service: 17,1 are-you-alive -> 17,2."""

from __future__ import annotations

from typing import Any

from fsw.core.component import Component
from fsw.protocol.packet import PusTc


class TestService(Component):
    name = "test"

    def routes(self) -> dict[tuple[int, int], Any]:
        return {(17, 1): self._are_you_alive}

    def _are_you_alive(self, tc: PusTc) -> Any:
        if tc.app_data:
            # 17,1 carries no data; anything else is a malformed request.
            from fsw.core.errors import CommandRejected
            from fsw.protocol.errors import FailureCode

            raise CommandRejected(FailureCode.BAD_ARGUMENT, "17,1 takes no application data")
        return lambda: self.ctx.telemetry.send_raw(17, 2, b"")
