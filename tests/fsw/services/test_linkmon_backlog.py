"""A ground that stops reading: the link's housekeeping shows the backlog held to its limit and the
packets given up, and an event says so (at most every 10 s); without the limit, the backlog grows."""

from __future__ import annotations

from pathlib import Path

from fsw.link import SerialLink
from fsw.services.linkmon import SHED_EVENT_INTERVAL_S, LinkMonitor
from hil.link.bridge import PtyPair
from tests.fsw.harness import Harness

LIMIT = 16 * 1024
FLIGHT_S = 600.0


def fly_with_a_silent_ground(store: Path, limit: int) -> Harness:
    """``FLIGHT_S`` of flight with the ground link on a pty whose far end never reads."""
    h = Harness(store)
    with PtyPair() as pair:
        link = SerialLink(pair.slave_name, max_backlog_octets=limit)
        h.vehicle.add(LinkMonitor(h.vehicle.ctx, link))

        async def scenario(h: Harness) -> None:
            await link.open()
            await h.clock.sleep(FLIGHT_S)
            await link.close()

        h.run(scenario)
    return h


def test_a_ground_that_stops_reading_is_shown_and_the_backlog_is_held(tmp_path: Path) -> None:
    h = fly_with_a_silent_ground(tmp_path / "a.db", LIMIT)
    link_hk = h.hk(2)
    assert max(hk["link_output_backlog"] for hk in link_hk) <= LIMIT
    assert link_hk[-1]["link_output_dropped"] > 0
    shed = [args for name, args in h.events() if name == "OUTPUT_SHED"]
    assert shed and shed[-1]["dropped"] <= link_hk[-1]["link_output_dropped"]
    assert len(shed) <= FLIGHT_S / SHED_EVENT_INTERVAL_S + 1  # however many packets give way

    # The control: the same flight with a limit out of reach; the backlog grows all the while.
    unbounded = fly_with_a_silent_ground(tmp_path / "b.db", 1 << 40).hk(2)
    assert unbounded[-1]["link_output_backlog"] > 4 * LIMIT and unbounded[-1]["link_output_dropped"] == 0
