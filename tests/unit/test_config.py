from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mlgrove.config import SETTINGS_DOC, load_settings, write_config
from mlgrove.errors import ConfigError


def make_dir(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.toml").write_text(text)
    return tmp_path


def test_defaults_live_in_the_workspace_folder(tmp_path: Path) -> None:
    grove = make_dir(tmp_path, 'secret_key = "s3cret"\n')
    s = load_settings(grove, environ={})
    assert s.database_url == f"sqlite:///{grove / 'grove.db'}"
    assert s.object_store_url == str(grove / "objects")
    assert s.session_hours == 12


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    grove = make_dir(tmp_path, 'secret_key = "file"\nsession_hours = 3\n')
    s = load_settings(grove, environ={"MLGROVE_SESSION_HOURS": "7", "MLGROVE_SECRET_KEY": "env"})
    assert (s.session_hours, s.secret_key) == (7, "env")


def test_unknown_key_is_an_error_that_names_it_and_the_known_keys(tmp_path: Path) -> None:
    grove = make_dir(tmp_path, 'secret_key = "x"\ndatabse_url = "sqlite:///x"\n')
    with pytest.raises(ConfigError, match="unknown config key 'databse_url'") as info:
        load_settings(grove, environ={})
    assert info.value.hint is not None
    assert "database_url" in info.value.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('secret_key = "x"\nsession_hours = "soon"\n', "session_hours must be a whole number"),
        ('secret_key = "x"\nsession_hours = 0\n', "session_hours must be positive"),
        ('secret_key = "x"\ndatabase_url = "mysql://db"\n', "not a SQLite or PostgreSQL URL"),
        ("secret_key = \n", "cannot parse"),
    ],
)
def test_bad_values_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(make_dir(tmp_path, text), environ={})


def test_without_a_workspace_everything_must_come_from_the_environment() -> None:
    with pytest.raises(ConfigError, match="'database_url' is not set"):
        load_settings(None, environ={})
    s = load_settings(
        None,
        environ={
            "MLGROVE_DATABASE_URL": "postgresql://u@h/db",
            "MLGROVE_OBJECT_STORE_URL": "memory://grove",
            "MLGROVE_SECRET_KEY": "k",
        },
    )
    assert s.object_store_url == "memory://grove"


def test_written_config_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_config(path, {"secret_key": 'we"ird\\key', "min_group_size": 7})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s = load_settings(tmp_path, environ={})
    assert (s.secret_key, s.min_group_size) == ('we"ird\\key', 7)


def test_every_setting_is_documented() -> None:
    assert all(len(doc) > 20 for doc in SETTINGS_DOC.values())
