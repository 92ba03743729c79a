"""Test doubles of the device bus."""

from __future__ import annotations

from typing import Any

from fsw.devices.bus import LINK_LOST, DeviceBusDead
from hil.devicebus import LocalDeviceBus


class PullableBus(LocalDeviceBus):
    """The in-process bus, with a link that can be pulled (``down``) and put back: a request sent while
    it is down never reaches the plant."""

    down = False

    def _post(self, subtype: int, body: Any) -> Any:
        if self.down:
            raise DeviceBusDead(LINK_LOST, "test: link pulled")
        return super()._post(subtype, body)
