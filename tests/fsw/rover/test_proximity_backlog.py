"""After an outage the rover's queued telemetry goes into the link only as fast as the radio takes it:
none of it is given up by the link's own bounded backlog, all of it comes down."""

from __future__ import annotations

from pathlib import Path

from fsw.devices.rover import RadioStatus
from fsw.link import SerialLink
from fsw.protocol.framing import Deframer
from fsw.rover.proximity import ProximityLink
from hil.link.bridge import PtyPair
from tests.fsw.harness import Harness
from tests.fsw.link.pty_support import read_waiting

LIMIT = 16 * 1024


class Radio:
    def __init__(self) -> None:
        self.locked = False

    def read(self) -> RadioStatus:
        return RadioStatus(0.0, self.locked, -80.0 if self.locked else -140.0, True)


def outage_then_contact(store: Path, paced: bool) -> tuple[Harness, int, int]:
    """300 s without lock, then lock with a far end that reads nothing for 20 s and then everything.
    Returns the vehicle, the packets the far end read and the largest backlog the link held."""
    h = Harness(store)
    radio = Radio()
    with PtyPair() as pair:
        link = SerialLink(pair.slave_name, max_backlog_octets=LIMIT)
        prox = ProximityLink(h.vehicle.ctx, link, radio)
        if not paced:
            prox._high_water = 1 << 40  # the control: the whole queue into the link at once
        h.vehicle.add(prox)
        deframer = Deframer()
        received = 0
        largest = 0

        async def scenario(h: Harness) -> None:
            nonlocal received, largest
            await link.open()
            await h.clock.sleep(300.0)
            radio.locked = True
            for _ in range(200):
                await h.clock.sleep(0.1)
                largest = max(largest, link.backlog_octets)
            for _ in range(3000):
                received += len(deframer.feed(read_waiting(pair.master_fd)))
                await h.clock.sleep(0.02)
            await link.close()

        h.run(scenario)
        assert deframer.rejected_total == 0
    return h, received, largest


def test_the_queue_of_an_outage_comes_down_whole(tmp_path: Path) -> None:
    h, received, largest = outage_then_contact(tmp_path / "a.db", paced=True)
    hk = h.hk(64)
    queued = max(report["prox_tm_queued"] for report in hk)
    assert queued > 500 and largest <= LIMIT // 2 + 1024
    assert hk[-1]["prox_tm_queued"] == 0 and hk[-1]["link_output_dropped"] == 0 and hk[-1]["prox_tm_dropped"] == 0
    assert received >= queued

    # The control: the whole queue handed to the link at once; its backlog gives the oldest up.
    h, received, _ = outage_then_contact(tmp_path / "b.db", paced=False)
    assert h.hk(64)[-1]["link_output_dropped"] > 0
