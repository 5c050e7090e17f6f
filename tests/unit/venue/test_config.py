"""Venue settings: speeds, TOML loading, errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from quantstrata.core.errors import ConfigError
from quantstrata.venue import ReplayMode, VenueConfig, load_venue_config, parse_speed


@pytest.mark.parametrize(
    ("text", "mode", "multiple"),
    [
        ("max", ReplayMode.MAX, 1.0),
        ("Lockstep", ReplayMode.LOCKSTEP, 1.0),
        ("realtime", ReplayMode.REALTIME, 1.0),
        ("60", ReplayMode.REALTIME, 60.0),
        ("x2.5", ReplayMode.REALTIME, 2.5),
    ],
)
def test_speeds(text: str, mode: ReplayMode, multiple: float) -> None:
    assert parse_speed(text) == (mode, multiple)


@pytest.mark.parametrize("text", ["fast", "0", "-3", "inf", ""])
def test_bad_speed_names_the_value(text: str) -> None:
    with pytest.raises(ConfigError, match="speed"):
        VenueConfig.build(speed=text)


def test_defaults_bind_localhost_without_faults() -> None:
    config = VenueConfig()
    assert config.host == "127.0.0.1"
    assert config.replay_mode is ReplayMode.MAX
    assert config.faults.reject_next == 0
    assert config.faults.volume_cap is None


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text(
        '[venue]\nspeed = "lockstep"\ncash = 5000\n[venue.commission]\nrate = 0.001\n'
        "[venue.faults]\nreject_next = 2\n",
        encoding="utf-8",
    )
    config = load_venue_config(path)
    assert config.replay_mode is ReplayMode.LOCKSTEP
    assert config.cash == 5000
    assert config.commission.rate == 0.001
    assert config.faults.reject_next == 2
    path.write_text("[venue]\ncolour = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="colour"):
        load_venue_config(path)
