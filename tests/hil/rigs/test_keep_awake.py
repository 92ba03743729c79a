"""The bench's processors kept awake during a run: one idle-priority spinner pinned to each, gone after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hil.rigs.keep_awake import KeepAwake, processors, supported

pytestmark = pytest.mark.skipif(not supported(), reason="no idle-priority scheduling on this host")


def until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.02)
    return False


def spinning_at_idle_priority(pid: int, cpu: int) -> bool:
    try:
        return os.sched_getscheduler(pid) == os.SCHED_IDLE and os.sched_getaffinity(pid) == {cpu}
    except OSError:
        return False


def gone(pid: int) -> bool:
    """Exited: no such process, or a zombie waiting for whoever adopted it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def test_one_idle_priority_spinner_on_each_processor_while_inside_and_none_after() -> None:
    with KeepAwake() as awake:
        assert len(awake.spinners) == len(processors()) > 0
        for cpu, spinner in zip(processors(), awake.spinners, strict=True):
            assert until(lambda spinner=spinner, cpu=cpu: spinning_at_idle_priority(spinner.pid, cpu))
            assert spinner.poll() is None
        assert "kept awake" in awake.describe()
        spinners = list(awake.spinners)
    assert all(spinner.poll() is not None for spinner in spinners)


def test_left_idle_when_asked() -> None:
    with KeepAwake(enabled=False) as awake:
        assert awake.spinners == []
        assert awake.describe() == "processors left to idle"


def test_a_spinner_whose_rig_is_gone_stops_by_itself() -> None:
    # A rig killed outright cannot stop its spinners: each notices it was orphaned and ends.
    rig = subprocess.run(
        [sys.executable, "-c",
         "import os, subprocess, sys\n"
         f"child = subprocess.Popen([sys.executable, '-m', 'hil.rigs.keep_awake', '{processors()[0]}', "
         "str(os.getpid())])\n"
         "print(child.pid)\n"],
        capture_output=True, text=True, timeout=30, check=True)
    spinner = int(rig.stdout.strip())
    assert until(lambda: gone(spinner), timeout=15.0)
