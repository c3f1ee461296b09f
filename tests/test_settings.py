"""Settings: defaults that work from any folder, THESIS_* overrides, `.env`, and one-line
errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import PortRange, load_settings
from tui.errors import ConfigError


def test_defaults_put_everything_in_the_data_folder(isolated_settings: Path) -> None:
    settings = load_settings()
    assert settings.resolved_database_url == f"sqlite:///{isolated_settings / 'thesis.db'}"
    assert settings.apps_dir == isolated_settings / "apps"
    assert settings.results_dir == isolated_settings / "results"
    assert settings.logs_dir == isolated_settings / "logs"
    assert settings.backend_ports == PortRange(5001, 5999)
    assert settings.frontend_ports == PortRange(8001, 8999)
    assert settings.openrouter_base_url == "https://openrouter.ai/api/v1"


def test_environment_overrides_the_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("THESIS_DATABASE_URL", "postgresql+psycopg://u@db:5432/thesis")
    monkeypatch.setenv("THESIS_APPS_DIR", str(tmp_path / "apps"))
    monkeypatch.setenv("THESIS_BACKEND_PORTS", "6001-6750")
    monkeypatch.setenv("THESIS_FRONTEND_PORTS", " 9001 - 9750 ")
    monkeypatch.setenv("THESIS_MAX_WORKERS", "8")
    settings = load_settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@db:5432/thesis"
    assert settings.apps_dir == tmp_path / "apps"
    assert settings.backend_ports == PortRange(6001, 6750) and len(settings.backend_ports) == 750
    assert settings.frontend_ports == PortRange(9001, 9750)
    assert settings.max_workers == 8


def test_dot_env_in_the_current_folder_is_read(tmp_path) -> None:
    (tmp_path / ".env").write_text("THESIS_MAX_WORKERS=3\nTHESIS_BACKEND_PORTS=7001-7100\n")
    settings = load_settings()
    assert settings.max_workers == 3
    assert settings.backend_ports == PortRange(7001, 7100)


@pytest.mark.parametrize("variable", ["THESIS_OPENROUTER_API_KEY", "OPENROUTER_API_KEY"])
def test_api_key_is_read_from_either_variable_and_never_shown(monkeypatch, variable) -> None:
    monkeypatch.setenv(variable, "sk-or-very-secret")
    settings = load_settings()
    assert settings.openrouter_api_key is not None
    assert settings.openrouter_api_key.get_secret_value() == "sk-or-very-secret"
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("THESIS_BACKEND_PORTS", "abc"),
        ("THESIS_BACKEND_PORTS", "6000-5000"),
        ("THESIS_BACKEND_PORTS", "0-10"),
        ("THESIS_FRONTEND_PORTS", "5500-5600"),  # overlaps the backend default
        ("THESIS_MAX_WORKERS", "0"),
        ("THESIS_MAX_WORKERS", "x"),
        ("THESIS_DATABASE_URL", "not-a-url"),
        ("THESIS_OPENROUTER_BASE_URL", "ftp://example"),
        ("THESIS_REFRESH_INTERVAL", "-1"),
    ],
)
def test_invalid_value_is_a_one_line_error_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = caught.value.msg
    assert variable in message
    assert "\n" not in message
