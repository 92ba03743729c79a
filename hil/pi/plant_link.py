"""Device-bus transport to an external plant computer over a UART (true hardware in the loop).

On the bench the emulator plant runs on a host PC and reaches the Pi through a USB-UART: the Pi
sends actuator commands and receives sensor packets, both as space packets in COBS frames, the
same framing as the ground link (``fsw.link.SerialLink``). This class is only the transport: it
opens the port (retrying while it is unplugged), sends packets and hands received ones over.
The message mapping (which APID and PUS service carries which device) belongs to the plant
protocol and is deliberately not fixed here; until it is, the flight side can only see whether
the plant link is up and how much traffic it carried.
"""

from __future__ import annotations

from fsw.link import SerialLink
from fsw.link.serial_link import LinkCounters


class PlantBusClient:
    def __init__(self, port: str, baud: int = 115200, *, reconnect_interval: float = 0.5) -> None:
        self.port = port
        self.baud = baud
        self.state = "closed"
        self.detail = ""
        self.link = SerialLink(port, baud, reconnect_interval=reconnect_interval, on_state=self._on_state)

    def _on_state(self, state: str, detail: str) -> None:
        self.state, self.detail = state, detail

    @property
    def connected(self) -> bool:
        return self.link.connected

    @property
    def counters(self) -> LinkCounters:
        return self.link.counters

    async def open(self) -> None:
        """Open now if the port is there, else keep retrying in the background."""
        await self.link.open_with_retry()

    def send_packet(self, packet: bytes) -> None:
        """Queue one space packet (framed on the wire); never blocks."""
        self.link.send(packet)

    async def receive_packet(self) -> bytes:
        """The next well-framed packet from the plant (raw octets; validation is the protocol's job)."""
        raw, _ = await self.link.receive()
        return raw

    async def close(self) -> None:
        await self.link.close()
