"""Digital lines of the bench through gpiozero: enables (valves, pyros, motor), the status LED,
limit switches and the arm plug.

``real`` lines use gpiozero's default pin factory (lgpio on a Pi 5, RPi.GPIO or lgpio on a Pi 4),
or whatever ``GPIOZERO_PIN_FACTORY`` names (``mock`` off the Pi). ``emulated`` lines always use a
private ``MockFactory``, so a bench with some real and some emulated lines works on a Pi too.
Every enable starts de-energised, whatever the line did before the process started.
"""

from __future__ import annotations

from typing import Any

try:
    from gpiozero import LED, Button, InputDevice, OutputDevice
except ModuleNotFoundError as error:  # the pi extra is not installed
    raise ModuleNotFoundError("the Pi backend needs gpiozero and smbus2: pip install 'ilrs-fsw[pi]'",
                              name=error.name) from error

from hil.config import InputConfig, OutputConfig


class DigitalOutput:
    """One output line. ``on`` energises the enable (or lights the LED)."""

    def __init__(self, config: OutputConfig, pin_factory: Any = None) -> None:
        self.config = config
        device_class = LED if config.kind == "led" else OutputDevice
        self.device: OutputDevice = device_class(config.pin, active_high=config.active_high, initial_value=False,
                                                 pin_factory=pin_factory)

    @property
    def name(self) -> str:
        return self.config.name

    def on(self) -> None:
        self.device.on()

    def off(self) -> None:
        self.device.off()

    def set(self, on: bool) -> None:
        self.on() if on else self.off()

    @property
    def is_on(self) -> bool:
        return bool(self.device.is_active)

    def line_level(self) -> int:
        """The electrical level the pin driver reports for the line (1 high, 0 low)."""
        return int(bool(self.device.pin.state))

    def close(self) -> None:
        self.device.close()


class DigitalInput:
    """One input line. ``is_active`` is True when the switch is closed (or the plug is in)."""

    def __init__(self, config: InputConfig, pin_factory: Any = None) -> None:
        self.config = config
        self.device = Button(config.pin, pull_up=config.pull_up, pin_factory=pin_factory)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_active(self) -> bool:
        return bool(self.device.is_active)

    def line_level(self) -> int:
        return int(bool(self.device.pin.state))

    def close(self) -> None:
        self.device.close()


class ReadbackInput:
    """A bare input on the line an output drives through a jumper: proves the level left the pin."""

    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        # No pull resistor: the output drives the line both ways.
        self.device = InputDevice(pin, pull_up=None, active_state=True, pin_factory=pin_factory)

    def line_level(self) -> int:
        return int(bool(self.device.value))

    def close(self) -> None:
        self.device.close()
