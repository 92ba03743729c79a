"""The shared shape of benchmark results, timing helpers, and the runner over every bench module.

A bench module is any ``tests/bench/bench_*.py`` with ``run(budget: Budget) -> list[Row]``; it is
found automatically, so adding a benchmark means adding one such file. ``run()`` without a budget,
and rows as plain mappings {name, value, unit, peer, peer_value, ratio}, are accepted too.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import timeit
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = REPO_ROOT / "build" / "bench.json"


@dataclass(frozen=True)
class Row:
    """One measured figure, optionally beside the same operation done by a peer implementation."""

    name: str
    value: float
    unit: str
    peer: str | None = None
    peer_value: float | None = None

    @property
    def ratio(self) -> float | None:
        """value / peer_value: above 1 means this project does more per second than the peer."""
        if self.peer_value is None or self.peer_value == 0:
            return None
        return self.value / self.peer_value

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}

    @classmethod
    def from_mapping(cls, row: Mapping[str, object]) -> Row:
        def number(key: str) -> float | None:
            value = row.get(key)
            return None if value is None else float(value)  # type: ignore[arg-type]

        value = number("value")
        if value is None:
            raise ValueError(f"benchmark row without a value: {row!r}")
        peer = row.get("peer")
        return cls(str(row["name"]), value, str(row["unit"]), None if peer is None else str(peer), number("peer_value"))


@dataclass(frozen=True)
class Budget:
    """How long to time each operation: the best of ``repeat`` runs of about ``seconds`` each."""

    seconds: float = 0.2
    repeat: int = 5


def rate(operation: Callable[[], object], budget: Budget) -> float:
    """Operations per second: the best of ``budget.repeat`` timed runs (least disturbed by others)."""
    timer = timeit.Timer(operation)
    # Calibrate on a short run, then size each timed run to the budget.
    number, elapsed = 1, timer.timeit(1)
    while elapsed < min(0.01, budget.seconds / 4):
        number *= 4
        elapsed = timer.timeit(number)
    number = max(1, int(number * budget.seconds / elapsed))
    best = min(timer.repeat(repeat=budget.repeat, number=number))
    return number / best


def compare(
    name: str, ours: Callable[[], object], peer: str, theirs: Callable[[], object], budget: Budget, unit: str = "ops/s"
) -> Row:
    # Measured back to back in one process, so both see about the same machine load.
    ours_rate = rate(ours, budget)
    theirs_rate = rate(theirs, budget)
    return Row(name, ours_rate, unit, peer, theirs_rate)


def bench_modules() -> list[str]:
    package = importlib.import_module("tests.bench")
    return sorted(
        f"tests.bench.{info.name}" for info in pkgutil.iter_modules(package.__path__) if info.name.startswith("bench_")
    )


def run_all(budget: Budget | None = None, modules: list[str] | None = None) -> list[Row]:
    budget = budget or Budget()
    rows: list[Row] = []
    for module_name in modules or bench_modules():
        run = importlib.import_module(module_name).run
        produced = run(budget) if inspect.signature(run).parameters else run()
        rows += [row if isinstance(row, Row) else Row.from_mapping(row) for row in produced]
    return rows


def write_json(rows: list[Row], path: Path = DEFAULT_OUTPUT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([row.as_json() for row in rows], indent=2) + "\n")
    return path


def format_table(rows: list[Row]) -> str:
    header = ("benchmark", "value", "unit", "peer", "peer value", "ratio")
    lines = [
        (
            row.name,
            _figure(row.value),
            row.unit,
            row.peer or "-",
            "-" if row.peer_value is None else _figure(row.peer_value),
            "-" if row.ratio is None else f"{row.ratio:.2f}x",
        )
        for row in rows
    ]
    widths = [max(len(cells[column]) for cells in [header, *lines]) for column in range(len(header))]
    rendered = [
        " | ".join(cell.ljust(width) if column in (0, 2, 3) else cell.rjust(width)
                   for column, (cell, width) in enumerate(zip(cells, widths, strict=True)))
        for cells in [header, *lines]
    ]
    rendered.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(rendered)


def _figure(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
