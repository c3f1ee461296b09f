"""tui.config.load_settings: defaults that work from any folder, THESIS_* variables and a
`.env` file override them, the API key stays secret, and every bad value is a one-line
ConfigError naming its variable.

The autouse `isolated_settings` fixture (conftest) clears THESIS_* and OPENROUTER_API_KEY,
points THESIS_DATA_DIR at a fresh folder and makes tmp_path the current folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tui.config import PortRange, Settings, load_settings
from tui.errors import ConfigError

SECRET = "sk-or-v1-0123456789abcdef-must-not-leak"


def test_defaults_keep_the_database_and_every_folder_in_the_data_folder(
    isolated_settings: Path, default_ports: None
) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_settings
    assert settings.database_url == ""
    assert settings.resolved_database_url == f"sqlite:///{isolated_settings / 'thesis.db'}"
    assert settings.apps_dir == isolated_settings / "apps"
    assert settings.results_dir == isolated_settings / "results"
    assert settings.logs_dir == isolated_settings / "logs"
    assert settings.backend_ports == PortRange(5001, 5999)
    assert settings.frontend_ports == PortRange(8001, 8999)
    assert settings.openrouter_api_key is None
    assert settings.openrouter_base_url == "https://openrouter.ai/api/v1"
    assert settings.max_workers >= 1


def test_without_thesis_data_dir_the_data_folder_is_absolute_and_outside_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("THESIS_DATA_DIR")
    settings = load_settings()
    assert settings.data_dir.is_absolute()
    assert tmp_path not in settings.data_dir.parents
    assert settings.resolved_database_url == f"sqlite:///{settings.data_dir / 'thesis.db'}"


def test_a_new_data_folder_moves_the_database_and_the_folders_not_set_explicitly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("THESIS_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("THESIS_LOGS_DIR", str(tmp_path / "logs"))
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'elsewhere' / 'thesis.db'}"
    assert settings.apps_dir == tmp_path / "elsewhere" / "apps"
    assert settings.results_dir == tmp_path / "elsewhere" / "results"
    assert settings.logs_dir == tmp_path / "logs"


OVERRIDES = [
    ("THESIS_DATABASE_URL", "postgresql+psycopg://u@db:5432/thesis", "resolved_database_url",
     "postgresql+psycopg://u@db:5432/thesis"),
    ("THESIS_APPS_DIR", "/srv/apps", "apps_dir", Path("/srv/apps")),
    ("THESIS_RESULTS_DIR", "/srv/results", "results_dir", Path("/srv/results")),
    ("THESIS_LOGS_DIR", "/srv/logs", "logs_dir", Path("/srv/logs")),
    ("THESIS_BACKEND_PORTS", "6001-6750", "backend_ports", PortRange(6001, 6750)),
    ("THESIS_FRONTEND_PORTS", " 9001 - 9750 ", "frontend_ports", PortRange(9001, 9750)),
    ("THESIS_MAX_WORKERS", "8", "max_workers", 8),
    ("THESIS_OPENROUTER_BASE_URL", "http://127.0.0.1:9999/api/v1/", "openrouter_base_url",
     "http://127.0.0.1:9999/api/v1"),
    ("THESIS_CONTAINER_CPU_LIMIT", "0.5", "container_cpu_limit", 0.5),
    ("THESIS_CONTAINER_MEMORY_LIMIT_MB", "1024", "container_memory_limit_mb", 1024),
    ("THESIS_REFRESH_INTERVAL", "2.5", "refresh_interval", 2.5),
]  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"), OVERRIDES, ids=[o[0] for o in OVERRIDES]
)
def test_an_environment_variable_overrides_its_default(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, attribute: str, expected: Any
) -> None:
    default = getattr(load_settings(), attribute)
    assert default != expected
    monkeypatch.setenv(variable, value)
    assert getattr(load_settings(), attribute) == expected


def test_a_dot_env_file_in_the_current_folder_is_read(tmp_path: Path, default_ports: None) -> None:
    (tmp_path / ".env").write_text(
        "# local settings\n"
        "THESIS_MAX_WORKERS=3\n"
        "THESIS_BACKEND_PORTS=7001-7100\n"
        f"THESIS_APPS_DIR={tmp_path / 'my-apps'}\n"
    )
    settings = load_settings()
    assert settings.max_workers == 3
    assert settings.backend_ports == PortRange(7001, 7100)
    assert settings.apps_dir == tmp_path / "my-apps"


def test_the_environment_wins_over_the_dot_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("THESIS_MAX_WORKERS=3\nTHESIS_REFRESH_INTERVAL=9\n")
    monkeypatch.setenv("THESIS_MAX_WORKERS", "5")
    settings = load_settings()
    assert settings.max_workers == 5
    assert settings.refresh_interval == 9


def test_a_dot_env_file_in_another_folder_is_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("THESIS_MAX_WORKERS=3\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_settings().max_workers != 3


def shown(settings: Settings) -> list[str]:
    return [repr(settings), str(settings)]


@pytest.mark.parametrize("variable", ["THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY"])
def test_the_api_key_is_read_from_either_variable_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, SECRET)
    settings = load_settings()
    assert settings.openrouter_api_key is not None
    assert settings.openrouter_api_key.get_secret_value() == SECRET
    for text in shown(settings):
        assert "openrouter_api_key" in text  # the field is there ...
        assert SECRET not in text  # ... its value is not
        assert "must-not-leak" not in text


@pytest.mark.parametrize("variable", ["THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY"])
def test_the_api_key_is_read_from_a_dot_env_file_under_either_name(
    tmp_path: Path, variable: str
) -> None:
    (tmp_path / ".env").write_text(f"{variable}={SECRET}\n")
    settings = load_settings()
    assert settings.openrouter_api_key is not None
    assert settings.openrouter_api_key.get_secret_value() == SECRET
    assert all(SECRET not in text for text in shown(settings))


def test_an_error_in_another_setting_does_not_show_the_api_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", SECRET)
    monkeypatch.setenv("THESIS_MAX_WORKERS", "many")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "must-not-leak" not in str(caught.value)


INVALID = [
    ("THESIS_BACKEND_PORTS", "abc"),
    ("THESIS_BACKEND_PORTS", "6000-5000"),
    ("THESIS_BACKEND_PORTS", "0-10"),
    ("THESIS_BACKEND_PORTS", "5001-70000"),
    ("THESIS_BACKEND_PORTS", "8500-8600"),  # overlaps the default frontend range
    ("THESIS_FRONTEND_PORTS", "5900-6100"),  # overlaps the default backend range
    ("THESIS_MAX_WORKERS", "0"),
    ("THESIS_MAX_WORKERS", "x"),
    ("THESIS_DATABASE_URL", "not-a-url"),
    ("THESIS_OPENROUTER_BASE_URL", "ftp://x"),
    ("THESIS_REFRESH_INTERVAL", "-1"),
]


@pytest.mark.parametrize(("variable", "value"), INVALID, ids=[f"{v}={x}" for v, x in INVALID])
def test_an_invalid_value_is_a_one_line_config_error_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, default_ports: None
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == caught.value.msg
    assert len(message.splitlines()) == 1 and "\n" not in message
    assert variable in message


def test_overlapping_port_ranges_set_in_both_variables_are_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THESIS_BACKEND_PORTS", "6000-7000")
    monkeypatch.setenv("THESIS_FRONTEND_PORTS", "7000-8000")  # shares port 7000
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "THESIS_BACKEND_PORTS" in message and "THESIS_FRONTEND_PORTS" in message


def test_adjacent_port_ranges_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THESIS_BACKEND_PORTS", "6000-6999")
    monkeypatch.setenv("THESIS_FRONTEND_PORTS", "7000-7999")
    settings = load_settings()
    assert (settings.backend_ports, settings.frontend_ports) == (
        PortRange(6000, 6999),
        PortRange(7000, 7999),
    )


def test_every_invalid_variable_is_named_in_the_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THESIS_MAX_WORKERS", "x")
    monkeypatch.setenv("THESIS_DATABASE_URL", "not-a-url")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "THESIS_MAX_WORKERS" in message and "THESIS_DATABASE_URL" in message


def test_folders_in_a_dot_env_file_expand_the_home_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / ".env").write_text("THESIS_APPS_DIR=~/apps\nTHESIS_RESULTS_DIR=~/results\n")
    settings = load_settings()
    assert settings.apps_dir == tmp_path / "home" / "apps"
    assert settings.results_dir == tmp_path / "home" / "results"


def test_an_empty_data_dir_setting_means_the_default(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("THESIS_DATA_DIR", "")
    settings = load_settings()
    assert settings.data_dir.is_absolute() and settings.data_dir != tmp_path


@pytest.mark.parametrize(
    "url, secret",
    [
        ("postgresql+psycopg://u:p%40ss@db/thesis", "p@ss"),
        ("postgresql+psycopg://u@db/thesis", None),
        ("a://[", None),  # not a URL urllib can split: read without it (found by test_fuzz)
    ],
)
def test_the_database_password_is_known_as_a_secret_without_sqlalchemy(url, secret) -> None:
    settings = load_settings(database_url=url)
    assert settings.secret_values() == ([secret] if secret else [])
