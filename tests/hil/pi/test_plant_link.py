"""The plant UART transport over real ptys: COBS-framed space packets both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path

import serial

from fsw.protocol.framing import Deframer, frame
from fsw.protocol.packet import PusTc, PusTm
from hil.link.process import running_link
from hil.pi.plant_link import PlantBusClient


async def test_packets_cross_the_uart_both_ways(tmp_path: Path) -> None:
    pi_end, plant_end = tmp_path / "pi", tmp_path / "plant"
    with running_link(pi_end, plant_end):
        client = PlantBusClient(str(pi_end))
        await client.open()
        assert client.connected and client.state == "connected"
        plant = serial.Serial(str(plant_end), 115200, timeout=0.05)
        try:
            command = PusTc(300, 8, 1, b"\x01\x02", seq_count=5).pack()
            client.send_packet(command)
            deframer = Deframer()
            received: list[bytes] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5.0
            while not received and loop.time() < deadline:
                received += [raw for raw, _ in deframer.feed(await asyncio.to_thread(plant.read, 4096))]
            assert received == [command]
            sensor = PusTm(301, 3, 25, b"\xa1\x01\x02", seq_count=9, time=1.0e9).pack()
            plant.write(frame(sensor))
            assert await asyncio.wait_for(client.receive_packet(), 5.0) == sensor
            assert client.counters.packets_out == 1 and client.counters.packets_in == 1
        finally:
            plant.close()
            await client.close()
