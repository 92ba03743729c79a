"""Keep the bench's processors awake while a run flies: one spinning process per processor, at the
scheduler's idle priority.

The processes of a run wake each other thousands of times a second over ptys (a device bus request,
its reply, each cycle flown ahead). On a virtual machine whose idle processor halts (no cpuidle
driver: the kernel's idle loop executes ``hlt``, an exit to the hypervisor), every wake-up that lands
on a halted processor waits for the hypervisor to run it again. A spinner at ``SCHED_IDLE`` keeps the
processor running and yields it at once to any other task: the kernel gives an idle-policy task the
processor only when nothing else wants it, and preempts it as soon as something does. Real-time
benches do the same with the kernel's power-management latency request (``/dev/cpu_dma_latency``,
which ``cyclictest`` holds at 0) or ``idle=poll``; neither reaches a guest with no cpuidle driver.

``python -m hil.rigs.keep_awake CPU`` is one spinner (it ends when its parent does).
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import TracebackType

# Loop passes between looks at the parent: some hundredths of a second of spinning.
PARENT_CHECK_PASSES = 200_000


def supported() -> bool:
    """This host can run idle-priority spinners pinned to a processor (Linux)."""
    return hasattr(os, "SCHED_IDLE") and hasattr(os, "sched_setscheduler") and hasattr(os, "sched_setaffinity")


def processors() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def spin(cpu: int, parent: int) -> None:
    """Spin on ``cpu`` at idle priority until the process ``parent`` is gone."""
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    os.sched_setaffinity(0, {cpu})
    passes = 0
    while True:
        passes += 1
        if passes == PARENT_CHECK_PASSES:
            passes = 0
            if os.getppid() != parent:  # orphaned: the rig is gone, and so is the run
                return


class KeepAwake:
    """``with KeepAwake():`` one spinner per processor this process may use, stopped on leaving.
    ``enabled=False``, or a host without idle-priority scheduling, starts none."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and supported()
        self.spinners: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> KeepAwake:
        if self.enabled:
            for cpu in processors():
                self.spinners.append(subprocess.Popen(
                    [sys.executable, "-m", "hil.rigs.keep_awake", str(cpu), str(os.getpid())],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for spinner in self.spinners:
            spinner.kill()
        for spinner in self.spinners:
            spinner.wait()
        self.spinners = []

    def describe(self) -> str:
        if not self.spinners:
            return "processors left to idle"
        return f"{len(self.spinners)} processors kept awake (an idle-priority spinner on each)"


if __name__ == "__main__":
    spin(int(sys.argv[1]), int(sys.argv[2]))
