"""Pi bench tests: gpiozero on its mock pin factory, and ``hardware`` tests only on a Raspberry Pi."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

MODEL_FILE = Path("/proc/device-tree/model")


def on_raspberry_pi() -> bool:
    try:
        return "Raspberry Pi" in MODEL_FILE.read_text(errors="replace")
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if on_raspberry_pi():
        return
    skip = pytest.mark.skip(reason="needs Raspberry Pi hardware (/proc/device-tree/model)")
    for item in items:
        if "hardware" in item.keywords and item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(skip)


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's default pin factory replaced by a fresh mock for the test."""
    previous = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = previous
