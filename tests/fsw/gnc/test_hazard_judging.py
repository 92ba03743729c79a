"""The hover's image judged over its control cycles: the hover holds position until the site is
chosen, the site is the one the whole image judged at once gives, and its offset counts from where
the lander was when the image came, however far it drifted while the judgement ran."""

from __future__ import annotations

from fsw.gnc.guidance import HAZARD_AVOIDANCE, HOVER
from fsw.gnc.hazard import assess
from tests.fsw.gnc.test_hazard import image
from tests.fsw.gnc.test_hazard_restart import AIM_M, first_scan_request, hovering, in_hover


def test_the_hover_holds_while_it_judges_and_the_site_counts_from_the_scan() -> None:
    rock_at_aim = image(rocks=((0.0, 0.0, 1.2, 0.8),))
    guidance = in_hover()
    assert first_scan_request(guidance, 0.0, 3.0) is not None
    guidance.provide_hazard_map(rock_at_aim)
    guidance.step(3.0, hovering())  # the image comes while the lander is over the aim
    cycles = 1
    while guidance.phase == HOVER and cycles < 400:
        # Meanwhile the lander drifts 2 m downrange; the hover keeps holding over the old aim.
        assert (guidance.target.s, guidance.target.c) == (AIM_M, 0.0)
        command = guidance.step(3.0 + 0.02 * cycles, hovering(s=AIM_M + 2.0))
        assert not command.request_hazard_scan
        cycles += 1
    assert guidance.phase == HAZARD_AVOIDANCE and cycles > 10  # judged over many cycles, not one
    found = assess(rock_at_aim, (0.0, 0.0), 2_000.0)
    assert found.site is not None and guidance.last_hazard == found
    assert (guidance.target.s, guidance.target.c) == (AIM_M + found.site[0], found.site[1])
    assert any(name == "hazard_detected_retargeting" and f"judged over {cycles} cycles" in detail
               for _, name, detail in guidance.events)
