"""The rover's flight software is its own image: its process loads the vehicle core and the rover's
components, none of the lander's GNC, mission machines or topology."""

from __future__ import annotations

import subprocess
import sys

LANDER_ONLY = ("fsw.gnc", "fsw.mission", "fsw.topology")


def modules_loaded_by(statement: str) -> set[str]:
    """The project's modules a fresh interpreter holds after ``statement``."""
    code = f"import sys\n{statement}\nprint('\\n'.join(name for name in sys.modules if name.startswith('fsw')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(result.stdout.split())


def lander_only(modules: set[str]) -> set[str]:
    return {name for name in modules if name.startswith(LANDER_ONLY)}


def test_the_rovers_process_loads_none_of_the_landers_modules() -> None:
    # What `ilrs-fsw run --vehicle rover` imports before it wires the rover.
    rover = modules_loaded_by("import fsw.cli, fsw.app\nfrom fsw.rover.topology import rover")
    assert "fsw.rover.traverse" in rover and "fsw.vehicle" in rover
    assert lander_only(rover) == set()
    # Control: the lander's wiring loads them, so the check above can see them.
    lander = modules_loaded_by("import fsw.cli, fsw.app\nfrom fsw.topology import lander")
    assert {"fsw.gnc.component", "fsw.mission.machine", "fsw.topology"} <= lander_only(lander)
