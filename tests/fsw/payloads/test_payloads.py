"""Partner payload plug-ins in an in-process executive: power, acquisition, products, HK, events."""

from __future__ import annotations

import hashlib
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import cbor2
import pytest

from fsw.payloads import BUILTIN, available, build_payloads, load
from fsw.payloads.products import ProductError, ProductStore, products_directory
from fsw.vehicle import Vehicle
from hil.emulator.surface import SurfaceWorld, make_surface_devices
from tests.fsw.harness import Harness

ACQUIRE = {
    "camera": ("CAM", [0.01]),
    "neutron_dosimeter": ("NDOS", [50, 0.1]),
    "radar": ("GPR", [16]),
}


def add_payloads(vehicle: Vehicle, names: list[str] | None = None, seed: int = 1,
                 devices: dict[str, object] | None = None) -> list[Any]:
    payloads = build_payloads(vehicle.ctx, names, seed, devices)
    for payload in payloads:
        vehicle.add(payload)
    return payloads


def wired(tmp_path: Path, seed: int = 7) -> Harness:
    harness = Harness(tmp_path / "store.sqlite")
    add_payloads(harness.vehicle, seed=seed, devices=instruments(harness, seed))
    return harness


def instruments(harness: Harness, seed: int) -> dict[str, object]:
    """The emulator platform's payload devices."""
    return make_surface_devices(SurfaceWorld(harness.clock.monotonic, seed)).payloads()


def acquire_all(harness: Harness) -> dict[str, bytes]:
    async def scenario(h: Harness) -> dict[str, bytes]:
        await h.nominal()
        for name, (prefix, args) in ACQUIRE.items():
            assert await h.submit(h.command(f"{prefix}_POWER_ON")) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
            tc = h.command(f"{prefix}_ACQUIRE", *args)
            assert await h.submit(tc, settle_s=10.0) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"], name
        await h.clock.sleep(2.5)
        store = ProductStore(products_directory(h.store.path))
        return {product: store.read(product) for product in store.names()}

    return harness.run(scenario)


def test_every_payload_acquires_a_product_with_events_and_hk(tmp_path: Path) -> None:
    harness = wired(tmp_path)
    products = acquire_all(harness)
    assert sorted(products) == ["cam_0001.pgm", "gpr_0001.cbor", "ndos_0001.csv"]
    assert products["cam_0001.pgm"].startswith(b"P5\n")
    header_end = products["cam_0001.pgm"].index(b"\n255\n") + 5
    assert len(products["cam_0001.pgm"]) - header_end == 128 * 96
    rows = products["ndos_0001.csv"].decode().splitlines()
    assert rows[0].startswith("t_s,neutral_counts,charged_counts") and len(rows) == 51
    radargram = cbor2.loads(products["gpr_0001.cbor"])
    assert radargram["traces"] == 16 and len(radargram["samples_i16_be"]) == 16 * 256 * 2
    events = [name for name, _ in harness.events()]
    for prefix in ("CAM", "NDOS", "GPR"):
        assert f"{prefix}_POWER" in events and f"{prefix}_PRODUCT" in events
    for sid, prefix in ((20, "cam"), (21, "ndos"), (22, "gpr")):
        latest = harness.hk(sid)[-1]
        assert latest[f"{prefix}_powered"] is True and latest[f"{prefix}_products"] == 1
        newest = next(data for name, data in products.items() if name.startswith(prefix))
        assert latest[f"{prefix}_last_product_bytes"] == len(newest)
    assert 10.0 < harness.hk(21)[-1]["ndos_dose_rate"] < 17.0  # around LND's 13.2 uGy/h


def test_products_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = acquire_all(wired(tmp_path / "a", seed=3))
    second = acquire_all(wired(tmp_path / "b", seed=3))
    other = acquire_all(wired(tmp_path / "c", seed=4))
    digest = {name: hashlib.sha256(data).hexdigest() for name, data in first.items()}
    assert digest == {name: hashlib.sha256(data).hexdigest() for name, data in second.items()}
    assert all(digest[name] != hashlib.sha256(other[name]).hexdigest() for name in digest)


def test_acquire_while_off_fails_and_counts_nothing(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        await h.nominal()
        tc = h.command("CAM_ACQUIRE", 0.01)
        assert await h.submit(tc) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert h.vehicle.housekeeping.structures[20].component.housekeeping()["cam_products"] == 0

    wired(tmp_path).run(scenario)


def test_product_numbering_survives_a_restart(tmp_path: Path) -> None:
    acquire_all(wired(tmp_path))
    harness = wired(tmp_path)
    names = acquire_all(harness)
    assert {"cam_0002.pgm", "ndos_0002.csv", "gpr_0002.cbor"} <= set(names)


def test_out_of_range_arguments_are_rejected_at_acceptance(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        await h.nominal()
        assert await h.submit(h.command("CAM_ACQUIRE", 5.0)) == ["ACCEPTANCE_FAILED"]
        assert await h.submit(h.command("GPR_ACQUIRE", 0)) == ["ACCEPTANCE_FAILED"]

    wired(tmp_path).run(scenario)


def test_dictionary_includes_the_payloads_only_when_added(tmp_path: Path) -> None:
    bare = Harness(tmp_path / "bare.sqlite").vehicle.dictionary.to_dict(100)
    full = wired(tmp_path).vehicle.dictionary.to_dict(100)
    commands = {c["name"] for c in full["commands"]} - {c["name"] for c in bare["commands"]}
    assert {"CAM_POWER_ON", "CAM_POWER_OFF", "CAM_ACQUIRE", "NDOS_ACQUIRE", "GPR_ACQUIRE"} <= commands
    assert {"20", "21", "22"} <= set(map(str, full["structures"])) and "20" not in set(map(str, bare["structures"]))
    assert {"cam_gain", "gpr_permittivity"} <= {p["name"] for p in full["parameters"]}


def test_registry_loads_by_name_and_refuses_unknown(tmp_path: Path) -> None:
    assert set(BUILTIN) <= set(available())
    assert load("radar").__name__ == "GroundPenetratingRadar"
    with pytest.raises(KeyError):
        load("no_such_instrument")
    executive: Vehicle = Harness(tmp_path / "s.sqlite").vehicle
    (camera,) = add_payloads(executive, ["camera"])
    assert camera in executive.components and "NDOS_ACQUIRE" not in executive.dispatcher.commands_by_name


def test_a_payload_without_a_device_is_reported_absent_and_the_rest_fly_on(tmp_path: Path) -> None:
    harness = Harness(tmp_path / "store.sqlite")
    devices = instruments(harness, 7)
    del devices["camera"]
    add_payloads(harness.vehicle, seed=7, devices=devices)

    async def scenario(h: Harness) -> None:
        await h.nominal()
        assert await h.submit(h.command("CAM_POWER_ON")) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert await h.submit(h.command("CAM_ACQUIRE", 0.01)) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_FAILED"]
        assert await h.submit(h.command("GPR_POWER_ON")) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        assert await h.submit(h.command("GPR_ACQUIRE", 4), settle_s=10.0) == [
            "ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        await h.clock.sleep(2.5)

    harness.run(scenario)
    faults = [args for name, args in harness.events() if name == "CAM_FAULT"]
    assert faults and "absent" in faults[0]["reason"]
    camera_hk = harness.hk(20)[-1]
    assert camera_hk["cam_powered"] is False and camera_hk["cam_products"] == 0
    assert harness.hk(22)[-1]["gpr_products"] == 1


def test_product_store_refuses_paths_and_overwrites(tmp_path: Path) -> None:
    store = ProductStore(tmp_path / "p")
    store.write("a.bin", b"x")
    with pytest.raises(ProductError):
        store.write("a.bin", b"y")
    for bad in ("../escape", "a/b", "", ".hidden"):
        with pytest.raises(ProductError):
            store.write(bad, b"z")
    assert store.read("a.bin") == b"x" and store.listing() == [("a.bin", 1)]


def test_a_partner_module_outside_the_tree_plugs_in_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsw.payloads

    point = EntryPoint("ena", "tests.fsw.payloads.example_partner:NeutralAtomAnalyser", fsw.payloads.ENTRY_POINT_GROUP)
    monkeypatch.setattr(fsw.payloads, "entry_points", lambda group: [point] if group == point.group else [])
    assert available()["ena"] == "tests.fsw.payloads.example_partner"
    harness = Harness(tmp_path / "store.sqlite")
    add_payloads(harness.vehicle, ["ena", "camera"])

    async def scenario(h: Harness) -> None:
        await h.nominal()
        assert await h.submit(h.command("ENA_POWER_ON")) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        assert await h.submit(h.command("ENA_ACQUIRE", 2.0)) == ["ACCEPTANCE_OK", "START_OK", "COMPLETION_OK"]
        await h.clock.sleep(1.5)

    harness.run(scenario)
    spectrum = cbor2.loads(ProductStore(products_directory(harness.store.path)).read("ena_0001.cbor"))
    assert len(spectrum["counts"]) == 16
    assert harness.hk(30)[-1]["ena_products"] == 1
    assert "ENA_ACQUIRE" in {c["name"] for c in harness.vehicle.dictionary.to_dict(100)["commands"]}


def test_the_product_listing_follows_every_store_on_the_folder_and_reads_it_only_when_it_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    ours, theirs = ProductStore(tmp_path / "p"), ProductStore(tmp_path / "p")
    assert ours.listing() == []
    theirs.write("a.bin", b"12345")  # at once, within the file system clock's tick of the last look
    assert ours.listing() == [("a.bin", 5)]
    theirs.write("b.bin", b"1")
    ours.delete("a.bin")
    assert ours.listing() == [("b.bin", 1)]
    # The folder unchanged for a while: its listing is kept, the folder not read again.
    past = ours.directory.stat().st_mtime_ns - 1_000_000_000
    os.utime(ours.directory, ns=(past, past))
    reads = []
    untimed_names = ProductStore.names
    monkeypatch.setattr(ProductStore, "names", lambda self: reads.append(1) or untimed_names(self))
    assert ours.listing() == ours.listing() == [("b.bin", 1)]
    assert len(reads) == 1
    theirs.write("c.bin", b"123")
    assert ours.listing() == [("b.bin", 1), ("c.bin", 3)] and len(reads) == 2
