from __future__ import annotations

from pathlib import Path

import pytest

from hil.config import (
    BadValueError,
    ConfigError,
    MissingKeyError,
    UnknownKeyError,
    default_config_path,
    load_config,
    parse_config,
)


def test_shipped_example_parses_with_every_device() -> None:
    config = load_config(default_config_path())
    assert {o.kind for o in config.outputs} == {"valve", "pyro", "motor", "led"}
    assert {i.kind for i in config.inputs} == {"limit_switch", "arm_plug"}
    assert config.imu.addresses == (0x68,) and config.imu.bus == 1
    assert config.barometer.addresses == (0x76,)
    assert config.watchdog.device == "/dev/watchdog"
    pins = [o.pin for o in config.outputs] + [i.pin for i in config.inputs]
    assert len(pins) == len(set(pins))


def test_minimal_config_means_everything_absent() -> None:
    config = parse_config("")
    assert config.outputs == () and config.inputs == ()
    assert config.imu.mode == config.barometer.mode == config.plant.mode == config.watchdog.mode == "absent"


def test_full_device_entries() -> None:
    config = parse_config("""
[outputs.valve]
kind = "valve"
mode = "emulated"
pin = 17
active_high = false
readback_pin = 26
[inputs.plug]
kind = "arm_plug"
mode = "real"
pin = 13
pull_up = false
[imu]
mode = "real"
addresses = [0x68, 0x69]
[plant]
mode = "real"
port = "/dev/ttyUSB1"
baud = 230400
""")
    valve = config.output("valve")
    assert (valve.mode, valve.pin, valve.active_high, valve.readback_pin) == ("emulated", 17, False, 26)
    assert config.input("plug").pull_up is False
    assert config.imu.addresses == (0x68, 0x69)
    assert (config.plant.port, config.plant.baud) == ("/dev/ttyUSB1", 230400)


@pytest.mark.parametrize(("text", "error_type", "key"), [
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin=17\ncolour='red'", UnknownKeyError, "outputs.valve.colour"),
    ("[sensors]\nx=1", UnknownKeyError, "sensors"),
    ("[outputs.valve]\nkind='valve'\nmode='real'", MissingKeyError, "outputs.valve.pin"),
    ("[outputs.valve]\nkind='valve'\nmode='on'\npin=17", BadValueError, "outputs.valve.mode"),
    ("[outputs.valve]\nkind='igniter'\nmode='real'\npin=17", BadValueError, "outputs.valve.kind"),
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin='17'", BadValueError, "outputs.valve.pin"),
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin=true", BadValueError, "outputs.valve.pin"),
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin=40", BadValueError, "outputs.valve.pin"),
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin=2", BadValueError, "outputs.valve.pin"),
    ("[outputs.valve]\nkind='valve'\nmode='real'\npin=14", BadValueError, "outputs.valve.pin"),
    ("[outputs.a]\nkind='valve'\nmode='real'\npin=17\n[inputs.b]\nkind='arm_plug'\nmode='real'\npin=17",
     BadValueError, "inputs.b.pin"),
    ("[inputs.b]\nkind='arm_plug'\nmode='real'\npin=5\npull_up='yes'", BadValueError, "inputs.b.pull_up"),
    ("[imu]\nmode='real'\naddress=0x50", BadValueError, "imu.address"),
    ("[imu]\nmode='real'\naddresses=[0x68, 0x68]", BadValueError, "imu.addresses"),
    ("[barometer]\nmode='real'\naddresses=[0x76, 0x77]", BadValueError, "barometer.addresses"),
    ("[barometer]\nmode='real'\nbus=-1", BadValueError, "barometer.bus"),
    ("[plant]\nmode='emulated'\nport='/dev/ttyUSB0'", BadValueError, "plant.mode"),
    ("[plant]\nmode='real'", MissingKeyError, "plant.port"),
    ("[plant]\nmode='real'\nport='/dev/ttyUSB0'\nbaud=0", BadValueError, "plant.baud"),
    ("outputs = 3", BadValueError, "outputs"),
])
def test_errors_name_the_bad_key(text: str, error_type: type[ConfigError], key: str) -> None:
    with pytest.raises(error_type) as caught:
        parse_config(text)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")


def test_bad_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[imu\nmode='real'")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
