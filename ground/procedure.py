"""Operations procedures: Python files run against a live session.

A procedure file defines ``async def procedure(p)`` or ``def main(p)`` (which may be ``async``);
``p`` is a :class:`Procedure`. Example: ``ground/procedures/checkout.py``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .dictionary import ArgumentError
from .remote import LiveSession
from .session import CommandEntry, CommandError, stage_text


class ProcedureFailed(AssertionError):
    """A check failed, a wait timed out, or a command did not complete."""


class Procedure:
    """The API a procedure sees."""

    def __init__(self, session: LiveSession, *, interactive: bool = False, out: TextIO | None = None,
                 answers: dict[str, str] | None = None) -> None:
        self.session = session
        self.interactive = interactive
        self.out = out or sys.stdout
        self.answers = answers or {}
        self.checks_passed = 0

    def log(self, message: str) -> None:
        print(f"{time.strftime('%H:%M:%S', time.gmtime())} {message}", file=self.out, flush=True)

    async def ping(self, timeout: float | None = None) -> float:
        """PUS 17,1; returns the round-trip time in seconds, raises when nothing answers."""
        entry, rtt = await self.session.ping(timeout or self.session.timeout())
        if rtt is None or not entry.ok:
            raise ProcedureFailed("ping: no answer")
        self.log(f"ping: {rtt * 1e3:.1f} ms")
        return rtt

    async def send(self, name: str, timeout: float | None = None, **args: Any) -> CommandEntry:
        """Send a dictionary command (critical ones are armed first: a procedure is its own
        confirmation) and wait for its verification; raises ``ProcedureFailed`` unless it completes."""
        self.log(f"send {name} {' '.join(f'{k}={v}' for k, v in args.items())}".rstrip())

        def on_stage(entry: CommandEntry, phase: str, report: Any) -> None:
            self.log(f"  {entry.spec.name}: {phase + ': ' if phase else ''}{stage_text(report)}")

        try:
            entry = await self.session.command(name, args, timeout=timeout, on_stage=on_stage)
        except ArgumentError as error:
            raise ProcedureFailed(str(error)) from error
        if not entry.ok:
            raise ProcedureFailed(str(CommandError(entry)))
        return entry

    def tlm(self, point: str) -> Any:
        """Latest value of a point (None before the first report)."""
        self.session.dictionary.point(point)
        return self.session.state.value(point)

    async def wait_until(self, point: str, expected: Any, timeout: float | None = None) -> Any:
        """Wait until ``point`` equals ``expected`` (or ``expected(value)`` is true); returns the value."""
        self.session.dictionary.point(point)
        predicate: Callable[[Any], bool] = expected if callable(expected) else (lambda value: value == expected)
        what = getattr(expected, "__name__", None) if callable(expected) else f"== {expected!r}"
        timeout = self.session.timeout(10.0) if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        not_before = self.session.last_verification_onboard
        while True:
            sample = self.session.state.latest.get(point)
            value = None if sample is None else sample.value
            fresh = sample is not None and (not_before is None or sample.onboard_time is None
                                            or sample.onboard_time >= not_before)
            if fresh and predicate(value):
                self.log(f"{point} = {value!r} ({what})")
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ProcedureFailed(f"{point} not {what} within {timeout:.1f} s (last {value!r})")
            await self.session.wait_for_packet(min(remaining, 0.5))

    def check(self, condition: Any, message: str) -> None:
        if not condition:
            raise ProcedureFailed(f"check failed: {message}")
        self.checks_passed += 1
        self.log(f"check ok: {message}")

    async def prompt(self, message: str, default: str = "yes") -> str:
        """Ask the operator; when not interactive, answer ``default`` (or a scripted answer)."""
        if not self.interactive:
            answer = self.answers.get(message, default)
            self.log(f"prompt: {message} -> {answer} (not interactive)")
            return answer
        answer = await asyncio.get_running_loop().run_in_executor(None, input, f"{message} [{default}] ")
        return answer.strip() or default

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def load_procedure(path: Path) -> Callable[[Procedure], Any]:
    if not path.exists():
        raise ArgumentError(f"procedure {path} does not exist")
    spec = importlib.util.spec_from_file_location(f"ground_procedure_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ArgumentError(f"cannot load procedure {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = getattr(module, "procedure", None) or getattr(module, "main", None)
    if entry is None or not callable(entry):
        raise ArgumentError(f"{path} defines neither async def procedure(p) nor def main(p)")
    return entry


async def run_procedure(session: LiveSession, entry: Callable[[Procedure], Any], *,
                        interactive: bool | None = None, out: TextIO | None = None) -> int:
    """Run one procedure; returns 0 on success, 1 on failure (the reason is logged)."""
    proc = Procedure(session, interactive=sys.stdin.isatty() if interactive is None else interactive, out=out)
    name = getattr(entry, "__module__", "procedure")
    try:
        result = entry(proc)
        if inspect.isawaitable(result):
            await result
    except ProcedureFailed as failure:
        proc.log(f"FAILED: {failure}")
        return 1
    except Exception as error:  # a bug in a procedure is a failed procedure, shown in full
        proc.log(f"FAILED: {type(error).__name__}: {error}")
        traceback.print_exc(file=proc.out)
        return 1
    proc.log(f"procedure {name.removeprefix('ground_procedure_')} completed ({proc.checks_passed} checks)")
    return 0


async def run_procedure_file(session: LiveSession, path: Path, *, interactive: bool | None = None) -> int:
    return await run_procedure(session, load_procedure(path), interactive=interactive)
