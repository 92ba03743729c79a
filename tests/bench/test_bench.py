"""The benchmark entry point produces well-formed rows (no timing is asserted)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.bench.__main__ import main
from tests.bench.rows import Budget, Row, bench_modules, format_table, run_all, write_json

TINY = Budget(seconds=0.0005, repeat=1)


def test_packet_bench_rows_are_well_formed(tmp_path: Path) -> None:
    rows = run_all(TINY, modules=["tests.bench.bench_packet"])
    names = [row.name for row in rows]
    assert len(names) == len(set(names)) >= 8
    for row in rows:
        assert row.value > 0 and math.isfinite(row.value)
        assert row.unit.endswith("/s")
        if row.peer is None:
            assert row.peer_value is None and row.ratio is None
        else:
            assert row.peer_value is not None and row.peer_value > 0
            assert row.ratio == row.value / row.peer_value
    assert {row.peer for row in rows} >= {"spacepackets 0.32.0", None}
    path = write_json(rows, tmp_path / "bench.json")
    loaded = json.loads(path.read_text())
    assert [entry["name"] for entry in loaded] == names
    for entry in loaded:
        assert set(entry) == {"name", "value", "unit", "peer", "peer_value", "ratio"}
    table = format_table(rows)
    assert all(name in table for name in names)


def test_modules_are_discovered_and_mapping_rows_accepted() -> None:
    assert "tests.bench.bench_packet" in bench_modules()
    row = Row.from_mapping({"name": "n", "value": 2, "unit": "s", "peer": "p", "peer_value": 4, "ratio": 0.5})
    assert row == Row("n", 2.0, "s", "p", 4.0)
    assert row.ratio == 0.5
    assert Row("x", 1.0, "ops/s").as_json() == {
        "name": "x", "value": 1.0, "unit": "ops/s", "peer": None, "peer_value": None, "ratio": None
    }


def test_command_line_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tests.bench.__main__ as entry

    # Only this module: the other benchmarks run real processes and take seconds.
    monkeypatch.setattr(entry, "run_all", lambda budget: run_all(budget, modules=["tests.bench.bench_packet"]))
    output = tmp_path / "out.json"
    assert main(["--seconds", "0.0005", "--repeat", "1", "--output", str(output)]) == 0
    assert len(json.loads(output.read_text())) >= 8
    assert "TM pack" in capsys.readouterr().out


def test_device_bus_bench_row_is_well_formed() -> None:
    rows = run_all(TINY, modules=["tests.bench.bench_device_bus"])
    assert [row.unit for row in rows] == ["round trip/s", "cycle/s", "cycle/s"]
    for row in rows:
        assert row.value > 0 and row.peer_value is not None and row.peer_value > 0
        assert row.ratio == row.value / row.peer_value


def test_archive_bench_row_is_well_formed() -> None:
    [row] = run_all(TINY, modules=["tests.bench.bench_archive"])
    assert row.unit == "packets/s" and row.value > 0 and row.peer_value is not None and row.peer_value > 0
