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


def test_profit_section_is_read(tmp_path):
    import datetime as dt

    from orchestration.settings import ProfitSettings

    (tmp_path / "storeops.yml").write_text(
        "profit:\n"
        "  fulfilment_per_order:\n"
        "    - {from: 2025-09, packaging: 0.90, pick_and_pack: 2.10}\n"
        "    - {from: 2024-12-01, packaging: 0.85, pick_and_pack: 1.90}\n"
        "  payment_fees:\n"
        "    PayPal Express Checkout: {percent: 3.49, fixed: 0.49}\n"
        "    Afterpay: {percent: 6}\n")
    profit = Settings.load(tmp_path).profit
    assert profit == ProfitSettings(
        fulfilment_per_order=((dt.date(2024, 12, 1), {"packaging": 0.85, "pick_and_pack": 1.9}),
                              (dt.date(2025, 9, 1), {"packaging": 0.9, "pick_and_pack": 2.1})),
        payment_fees={"paypal express checkout": (3.49, 0.49), "afterpay": (6.0, 0.0)})
    assert profit.dbt_vars() == {
        "fulfilment_per_order": [
            {"from": "2024-12-01", "cost": 2.75, "parts": {"packaging": 0.85, "pick_and_pack": 1.9}},
            {"from": "2025-09-01", "cost": 3.0, "parts": {"packaging": 0.9, "pick_and_pack": 2.1}}],
        "payment_fees": [{"gateway": "afterpay", "percent": 6.0, "fixed": 0.0},
                         {"gateway": "paypal express checkout", "percent": 3.49, "fixed": 0.49}]}
    assert Settings.load(tmp_path / "none").profit == ProfitSettings()


@pytest.mark.parametrize(("text", "message"), [
    ("profit:\n  shipping: 5\n", "unknown key(s) under 'profit': shipping"),
    ("profit:\n  fulfilment_per_order: [{packaging: 1}]\n", "entry 1 needs a 'from' date"),
    ("profit:\n  fulfilment_per_order: [{from: June, packaging: 1}]\n", "'from' must be YYYY-MM"),
    ("profit:\n  fulfilment_per_order: [{from: 2025-01}]\n", "names no cost"),
    ("profit:\n  fulfilment_per_order: [{from: 2025-01, packaging: -1}]\n",
     "packaging must be a number >= 0"),
    ("profit:\n  payment_fees: {PayPal: 3.49}\n", "profit.payment_fees.PayPal must be"),
    ("profit:\n  payment_fees: {PayPal: {percent: 120}}\n", "percent must be below 100"),
])
def test_bad_profit_settings_name_the_key(tmp_path, text, message):
    (tmp_path / "storeops.yml").write_text(text)
    with pytest.raises(SettingsError) as error:
        Settings.load(tmp_path)
    assert message in str(error.value)
    assert "storeops.yml" in str(error.value)
