"""storeops.yml: the replenishment section, and errors that name the file and key."""

import pytest

from orchestration.settings import ReplenishmentSettings, Settings, SettingsError


def test_defaults_without_a_settings_file(tmp_path):
    settings = Settings.load(tmp_path)
    assert settings.landing == tmp_path.resolve() / "landing"
    assert settings.replenishment == ReplenishmentSettings()
    assert settings.replenishment.budget_per_cycle is None
    assert settings.replenishment.auto_approve_below == 0
    assert settings.compute == "local"


def test_compute_engine_is_read(tmp_path):
    (tmp_path / "storeops.yml").write_text("compute: duckdb\n")
    assert Settings.load(tmp_path).compute == "duckdb"


def test_replenishment_section_is_read(tmp_path):
    (tmp_path / "storeops.yml").write_text(
        "currency: EUR\n"
        "replenishment:\n"
        "  service_level: {A: 0.99, C: 0.85}\n"
        "  budget_per_cycle: 25000\n"
        "  storage_capacity:\n"
        "    Main Warehouse: 40000\n"
        "  auto_approve_below: 250\n")
    settings = Settings.load(tmp_path)
    assert settings.currency == "EUR"
    assert settings.replenishment == ReplenishmentSettings(
        service_level={"A": 0.99, "C": 0.85}, budget_per_cycle=25000.0,
        storage_capacity={"Main Warehouse": 40000.0}, auto_approve_below=250.0)


@pytest.mark.parametrize(("text", "message"), [
    ("replenishment:\n  budget: 10\n", "unknown key(s) under 'replenishment': budget"),
    ("replenishment:\n  budget_per_cycle: lots\n", "replenishment.budget_per_cycle must be a number"),
    ("replenishment:\n  service_level: {A: 98}\n", "replenishment.service_level.A must be between 0.5 and 1.0"),
    ("replenishment:\n  storage_capacity: 100\n", "replenishment.storage_capacity must be a mapping"),
    ("replenishment:\n  storage_capacity: {Main: -5}\n", "storage_capacity.Main must be >= 0"),
    ("replenishment: [1, 2]\n", "'replenishment' must be a mapping"),
    ("currency: [unclosed\n", "not valid YAML"),
    ("compute: hadoop\n", "compute must be one of local, duckdb, dask, spark, ray"),
])
def test_bad_settings_name_the_file_and_key(tmp_path, text, message):
    (tmp_path / "storeops.yml").write_text(text)
    with pytest.raises(SettingsError) as error:
        Settings.load(tmp_path)
    assert message in str(error.value)
    assert "storeops.yml" in str(error.value)


def test_landing_of_another_home_is_not_inherited(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("STOREOPS_HOME", str(first))
    monkeypatch.setenv("STOREOPS_LANDING", str(first / "landing"))
    # A run on the first home exported both; a second home keeps its own landing ...
    assert Settings.load(second).landing == (second / "landing").resolve()
    # ... while the exported home (or no home given) still uses the exported landing.
    assert Settings.load(first).landing == (first / "landing").resolve()
    monkeypatch.setenv("STOREOPS_LANDING", str(tmp_path / "elsewhere"))
    assert Settings.load().landing == (tmp_path / "elsewhere").resolve()


def test_tax_and_window_settings(tmp_path):
    settings = Settings.load(tmp_path)
    assert settings.taxes_included is None and not settings.timezone_configured
    assert settings.export_window_start.isoformat() == "1995-01-01"
    (tmp_path / "storeops.yml").write_text(
        "timezone: Europe/London\ntaxes_included: true\nexport_window_start: 2001-02-03\n")
    settings = Settings.load(tmp_path)
    assert settings.taxes_included is True and settings.timezone_configured
    assert settings.export_window_start.isoformat() == "2001-02-03"


@pytest.mark.parametrize(("text", "message"), [
    ("taxes_included: maybe\n", "taxes_included must be true or false"),
    ("export_window_start: last year\n", "export_window_start must be a date"),
])
def test_tax_and_window_settings_errors(tmp_path, text, message):
    (tmp_path / "storeops.yml").write_text(text)
    with pytest.raises(SettingsError, match=message):
        Settings.load(tmp_path)
