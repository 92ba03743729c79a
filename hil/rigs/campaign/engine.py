"""The campaign engine: runs fanned out on a Dask cluster, rows streamed into the results file.

Each seed is one task. Rows are written by this process as each task ends (``as_completed``), so an
interrupted campaign keeps what it finished, and a re-run of the same folder flies only the seeds
missing from the file. A worker that dies mid-run (killed, out of memory, a crashed interpreter)
takes its task with it: the scheduler gives the task to another worker (a LocalCluster's nanny also
restarts the dead one), and when the scheduler gives up on a task (``KilledWorker``) the engine
submits it again, a few times. A run that raises is not retried (a seeded run would raise again):
it is recorded as a failure with the error as its cause.

Default cluster: a LocalCluster of one single-threaded worker process per CPU; ``scheduler`` names an
existing one (``dask scheduler`` and ``dask worker tcp://...`` started by hand, on machines with the
project installed).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hil.rigs.campaign.segments import Row, RunFunction
from hil.rigs.campaign.store import ResultsFile

RESUBMISSIONS = 3  # after the scheduler has given up on a task whose workers kept dying
CONNECT_TIMEOUT_S = 30.0
WORKERS_WAIT_S = 180.0  # for the workers of an existing cluster to join (each starts a Python process)


def execute(run: RunFunction, seed: int) -> Row:
    """On a worker: one run, timed; an exception becomes the run's failure, not the task's."""
    start = time.perf_counter()
    try:
        row = dict(run(seed))
    except Exception as error:
        last = traceback.extract_tb(error.__traceback__)[-1]
        row = {"seed": seed, "success": False,
               "cause": f"run error: {type(error).__name__} at {Path(last.filename).name}:{last.lineno}",
               "error": f"{type(error).__name__}: {error}"}
    if row.get("wall_s") is None:
        row["wall_s"] = time.perf_counter() - start
    row["worker"] = f"{os.uname().nodename}:{os.getpid()}"
    return row


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: on the cluster at ``scheduler``, else on a LocalCluster of ``workers`` processes
    (default: one per CPU), one thread each."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout=CONNECT_TIMEOUT_S) as client:
            client.wait_for_workers(workers or 1, timeout=WORKERS_WAIT_S)
            yield client
        return
    count = workers or os.cpu_count() or 1
    with (LocalCluster(n_workers=count, threads_per_worker=1, processes=True, dashboard_address=None,
                       silence_logs=logging.ERROR) as cluster,
          Client(cluster) as client):
        yield client


class Progress:
    """A one-line progress bar with the ETA, redrawn on ``stream`` (stderr) as runs end."""

    WIDTH = 30

    def __init__(self, stream: IO[str] | None, total: int, done: int) -> None:
        self.stream, self.total, self.done, self.failed = stream, total, done, 0
        self.started, self.start_done = time.monotonic(), done

    def update(self, success: bool) -> None:
        self.done += 1
        self.failed += not success
        self.draw()

    def draw(self, end: str = "") -> None:
        if self.stream is None:
            return
        elapsed = time.monotonic() - self.started
        flown = self.done - self.start_done
        eta = elapsed / flown * (self.total - self.done) if flown else None
        filled = int(self.WIDTH * self.done / self.total) if self.total else self.WIDTH
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} runs, {self.failed} failed, "
                          f"{_clock(elapsed)} elapsed, ETA {_clock(eta) if eta is not None else '?'}{end}")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class EngineReport:
    flown: int  # runs this call finished
    skipped: int  # seeds already in the results file
    resubmitted: int  # tasks submitted again after their workers died
    workers: int
    wall_s: float
    lost: list[int] = field(default_factory=list)  # seeds whose workers kept dying: not in the file


def run_campaign(results_path: Path, seeds: Sequence[int], run: RunFunction, *, scheduler: str | None = None,
                 workers: int | None = None, progress: IO[str] | None = sys.stderr,
                 label: str = "run") -> EngineReport:
    """Fly every seed not yet in the results file at ``results_path``; each row is committed as its
    run ends."""
    from distributed import as_completed

    wall0 = time.monotonic()
    with ResultsFile(results_path) as results:
        done = results.done()
        todo = [seed for seed in dict.fromkeys(seeds) if seed not in done]
        skipped = len(set(seeds)) - len(todo)
        if not todo:
            return EngineReport(0, skipped, 0, 0, time.monotonic() - wall0)
        resubmitted = 0
        lost: list[int] = []
        with connect(scheduler, workers) as client:
            count = len(client.scheduler_info()["workers"])
            token = secrets.token_hex(4)
            bar = Progress(progress, len(set(seeds)), skipped)  # timed from here: the cluster is up

            def submit(seed: int, attempt: int) -> Any:
                return client.submit(execute, run, seed, key=f"{label}-{seed}-{token}-{attempt}", pure=False)

            pending = {submit(seed, 1): (seed, 1) for seed in todo}
            bar.draw()
            completed = as_completed(list(pending))
            for future in completed:
                seed, attempt = pending.pop(future)
                if future.status == "finished":
                    row = future.result()
                    worker = row.pop("worker", None)
                else:
                    error = future.exception()
                    if attempt <= RESUBMISSIONS:  # its workers died under it: fly it again elsewhere
                        again = submit(seed, attempt + 1)
                        pending[again] = (seed, attempt + 1)
                        completed.add(again)
                        resubmitted += 1
                        continue
                    lost.append(seed)  # left out of the file: a re-run flies it
                    print(f"\nseed {seed} lost ({type(error).__name__}: {error})", file=progress or sys.stderr)
                    continue
                results.add(row, worker=worker, attempts=attempt)
                bar.update(bool(row["success"]))
                future.release()
        bar.draw("\n")
    return EngineReport(len(todo) - len(lost), skipped, resubmitted, count, time.monotonic() - wall0, lost)
