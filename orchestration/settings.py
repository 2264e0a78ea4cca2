"""Where a storeops home lives and what is in it.

One home directory holds everything a store's storeops produces: the warehouse, the
Dagster instance, the outputs and (for the demo) the landing files. storeops.yml is read
once per process into `Settings`; the CLI hands it to the assets as resources and to dbt
as --vars, and gives separate processes (`dagster dev`) its `child_env()`.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from quality.specs import DEFAULT_EXPORT_WINDOW_START

HOME_ENV = "STOREOPS_HOME"
LANDING_ENV = "STOREOPS_LANDING"
DEFAULT_HOME = Path("storeops_home")
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_CURRENCY = "USD"
# DEFAULT_EXPORT_WINDOW_START (1995-01-01), the default of export_window_start, is part
# of the landing contract (quality/specs.py) that the loader and the checks share.


class SettingsError(ValueError):
    """storeops.yml holds a value storeops cannot use; the message names the file and key."""


@dataclass(frozen=True)
class ReplenishmentSettings:
    """How reorder suggestions are made (the `replenishment:` section of storeops.yml).

    service_level: cycle service level per ABC class (merged over A 0.98, B 0.95, C 0.90).
    budget_per_cycle: cash for one order cycle's orders, in the store currency; when the
        suggestions cost more, lines are funded by urgency then margin and the reason
        says what was cut. None: no budget.
    storage_capacity: units each stock location can hold ({"Main Warehouse": 40000});
        orders are cut to the free room (capacity - on hand - on order). Empty: none.
    auto_approve_below: lines worth less than this (and not "order now") are marked
        auto-approved, as routine. 0: nothing is auto-approved.
    """

    service_level: dict[str, float] = field(default_factory=dict)
    budget_per_cycle: float | None = None
    storage_capacity: dict[str, float] = field(default_factory=dict)
    auto_approve_below: float = 0.0

    @classmethod
    def from_config(cls, config: dict | None, source: str = "storeops.yml") -> ReplenishmentSettings:
        config = config or {}
        if not isinstance(config, dict):
            raise SettingsError(f"{source}: 'replenishment' must be a mapping of settings")
        known = {"service_level", "budget_per_cycle", "storage_capacity", "auto_approve_below"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise SettingsError(f"{source}: unknown key(s) under 'replenishment': "
                                f"{', '.join(unknown)} (known: {', '.join(sorted(known))})")

        def number(key: str, value, *, low: float = 0.0, high: float | None = None) -> float:
            try:
                out = float(value)
            except (TypeError, ValueError):
                raise SettingsError(f"{source}: replenishment.{key} must be a number, "
                                    f"got {value!r}") from None
            if math.isnan(out) or out < low or (high is not None and out >= high):
                bounds = f"between {low} and {high}" if high is not None else f">= {low}"
                raise SettingsError(f"{source}: replenishment.{key} must be {bounds}, got {value!r}")
            return out

        def mapping(key: str) -> dict:
            value = config.get(key) or {}
            if not isinstance(value, dict):
                raise SettingsError(f"{source}: replenishment.{key} must be a mapping")
            return value

        levels = {str(k): number(f"service_level.{k}", v, low=0.5, high=1.0)
                  for k, v in mapping("service_level").items()}
        capacity = {str(k): number(f"storage_capacity.{k}", v)
                    for k, v in mapping("storage_capacity").items()}
        budget = config.get("budget_per_cycle")
        return cls(
            service_level=levels,
            budget_per_cycle=None if budget is None else number("budget_per_cycle", budget),
            storage_capacity=capacity,
            auto_approve_below=number("auto_approve_below", config.get("auto_approve_below") or 0),
        )


# Gateways that charge the store nothing per order: cash and manual payments (bank
# transfer, cash on delivery), gift cards (paid earlier, when the card was sold) and
# Shopify's test gateway. Compared lower-cased.
FEE_FREE_GATEWAYS = ("cash", "manual", "gift_card", "gift card", "bogus", "cash on delivery (cod)")


@dataclass(frozen=True)
class ProfitSettings:
    """Costs no export carries (the `profit:` section of storeops.yml), in the store
    currency.

    fulfilment_per_order: ((from_date, {cost name: amount}), ...), oldest first: each
        entry applies to the shipped orders placed from its date (a YYYY-MM month means its first
        day) until the next entry; e.g. packaging and pick-and-pack fees per order.
        Empty: no fulfilment costs (contribution margin 2 then leaves them out, and says so).
    payment_fees: {gateway, lower-cased: (percent, fixed)} for gateways whose fees are
        not in a transactions export (PayPal, Afterpay, Klarna): fee per charged order =
        Total x percent / 100 + fixed, rounded to the cent. Shopify Payments fees come
        from its transactions export; FEE_FREE_GATEWAYS cost nothing.
    """

    fulfilment_per_order: tuple[tuple[dt.date, dict[str, float]], ...] = ()
    payment_fees: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict | None, source: str = "storeops.yml") -> ProfitSettings:
        """Raises SettingsError naming the key when a value cannot be used."""
        config = config or {}
        if not isinstance(config, dict):
            raise SettingsError(f"{source}: 'profit' must be a mapping of settings")
        known = {"fulfilment_per_order", "payment_fees"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise SettingsError(f"{source}: unknown key(s) under 'profit': {', '.join(unknown)} "
                                f"(known: {', '.join(sorted(known))})")

        def amount(where: str, value) -> float:
            try:
                out = float(value)
            except (TypeError, ValueError):
                raise SettingsError(f"{source}: {where} must be a number, got {value!r}") from None
            if math.isnan(out) or out < 0:
                raise SettingsError(f"{source}: {where} must be a number >= 0, got {value!r}")
            return out

        entries = config.get("fulfilment_per_order") or []
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise SettingsError(f"{source}: profit.fulfilment_per_order must be a list of "
                                "entries like {from: 2025-01, packaging: 0.85}")
        schedule: list[tuple[dt.date, dict[str, float]]] = []
        for n, entry in enumerate(entries, 1):
            where = f"profit.fulfilment_per_order entry {n}"
            if not isinstance(entry, dict) or "from" not in entry:
                raise SettingsError(f"{source}: {where} needs a 'from' date (YYYY-MM or "
                                    f"YYYY-MM-DD) and costs per order, got {entry!r}")
            start = entry["from"]
            if isinstance(start, dt.datetime):
                start = start.date()
            if not isinstance(start, dt.date):
                text = str(start).strip()
                try:
                    start = (dt.date.fromisoformat(text + "-01") if len(text) == 7
                             else dt.date.fromisoformat(text))
                except ValueError:
                    raise SettingsError(f"{source}: {where}: 'from' must be YYYY-MM or "
                                        f"YYYY-MM-DD, got {entry['from']!r}") from None
            costs = {str(k): amount(f"{where}: {k}", v) for k, v in entry.items() if k != "from"}
            if not costs:
                raise SettingsError(f"{source}: {where} names no cost (packaging: 0.85, ...)")
            schedule.append((start, costs))
        schedule.sort(key=lambda e: e[0])
        if len({d for d, _ in schedule}) < len(schedule):
            raise SettingsError(f"{source}: profit.fulfilment_per_order has two entries "
                                "from the same date")

        fees_config = config.get("payment_fees") or {}
        if not isinstance(fees_config, dict):
            raise SettingsError(f"{source}: profit.payment_fees must map a gateway to "
                                "{percent: 3.49, fixed: 0.49}")
        fees: dict[str, tuple[float, float]] = {}
        for gateway, rate in fees_config.items():
            where = f"profit.payment_fees.{gateway}"
            if not isinstance(rate, dict) or not set(rate) <= {"percent", "fixed"} or not rate:
                raise SettingsError(f"{source}: {where} must be {{percent: ..., fixed: ...}}, "
                                    f"got {rate!r}")
            percent = amount(f"{where}.percent", rate.get("percent", 0))
            if percent >= 100:
                raise SettingsError(f"{source}: {where}.percent must be below 100, got {percent}")
            fees[str(gateway).strip().lower()] = (percent, amount(f"{where}.fixed",
                                                                  rate.get("fixed", 0)))
        return cls(fulfilment_per_order=tuple(schedule), payment_fees=fees)

    def dbt_vars(self) -> dict:
        """The settings as dbt --vars (plain JSON): fulfilment_per_order as
        [{"from": "YYYY-MM-DD", "cost": total, "parts": {...}}], payment_fees as
        [{"gateway": name, "percent": p, "fixed": f}]."""
        return {
            "fulfilment_per_order": [
                {"from": d.isoformat(), "cost": round(sum(c.values()), 4), "parts": c}
                for d, c in self.fulfilment_per_order],
            "payment_fees": [{"gateway": g, "percent": p, "fixed": f}
                             for g, (p, f) in sorted(self.payment_fees.items())],
        }


@dataclass(frozen=True)
class Settings:
    """Paths and store facts for one storeops home.

    `home/storeops.yml` may set `timezone`, `currency`, `landing` (a path),
    `taxes_included` (true: the store's prices include tax, as in the UK, EU and
    Australia; false: tax is added at checkout, as in the US; not set: told per order from
    its Total, Subtotal, Shipping and Taxes), `export_window_start` (rows dated before it
    are quarantined; default 1995-01-01, so history imported from older platforms loads)
    a `replenishment:` section (see ReplenishmentSettings) and `compute` (where the
    forecasts run: local, default, or a Fugue engine: duckdb, dask, spark, ray; see
    forecasting.compute), `sources:` (the vendors' APIs to pull, orchestration.pull) and
    `delivery:` (where briefs, alerts and buyer files are sent, orchestration.delivery),
    `profit:` (costs no export carries: fulfilment per order, gateway fees; ProfitSettings);
    anything not set falls back to the defaults. `timezone_configured` says whether the timezone came from the
    file (False: the default applies, and exports whose offsets do not fit it are warned of).
    """

    home: Path
    landing: Path
    timezone: str = DEFAULT_TIMEZONE
    currency: str = DEFAULT_CURRENCY
    replenishment: ReplenishmentSettings = field(default_factory=ReplenishmentSettings)
    taxes_included: bool | None = None
    export_window_start: dt.date = DEFAULT_EXPORT_WINDOW_START
    timezone_configured: bool = False
    compute: str = "local"
    # `sources:` per vendor (orchestration/pull): shop, API version, base_url, ...; each
    # source checks its own section when it pulls. Credentials never live here.
    sources: dict = field(default_factory=dict)
    # `delivery:` (orchestration/delivery/settings.py): SMTP, Slack, recipients per kind;
    # checked when the settings are read. Passwords and webhook URLs never live here.
    delivery: dict = field(default_factory=dict)
    profit: ProfitSettings = field(default_factory=ProfitSettings)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def output_dir(self) -> Path:
        return self.home / "output"

    @property
    def truth_dir(self) -> Path:
        return self.home / "demo_truth"

    @classmethod
    def load(cls, home: Path | str | None = None, landing: Path | str | None = None) -> Settings:
        """Settings for `home` (else $STOREOPS_HOME, else ./storeops_home)."""
        env_home = os.environ.get(HOME_ENV)
        home_path = Path(home or env_home or DEFAULT_HOME).resolve()
        env_landing = os.environ.get(LANDING_ENV)
        if home is not None and (not env_home or Path(env_home).resolve() != home_path):
            # $STOREOPS_LANDING belongs to $STOREOPS_HOME (a run exports both): another
            # home keeps its own landing, or a second store in one process would ingest
            # the first one's files.
            env_landing = None
        config: dict = {}
        config_file = home_path / "storeops.yml"
        if config_file.exists():
            try:
                config = yaml.safe_load(config_file.read_text()) or {}
            except yaml.YAMLError as exc:
                raise SettingsError(f"{config_file}: not valid YAML: {exc}") from None
            if not isinstance(config, dict):
                raise SettingsError(f"{config_file}: expected a mapping of settings")
        landing_path = landing or env_landing or config.get("landing")
        taxes_included = config.get("taxes_included")
        if taxes_included not in (None, True, False):
            raise SettingsError(f"{config_file}: taxes_included must be true or false "
                                f"(or left out to tell it per order), got {taxes_included!r}")
        window_start = config.get("export_window_start", DEFAULT_EXPORT_WINDOW_START)
        if isinstance(window_start, str):
            try:
                window_start = dt.date.fromisoformat(window_start)
            except ValueError:
                window_start = None
        if not isinstance(window_start, dt.date) or isinstance(window_start, dt.datetime):
            raise SettingsError(f"{config_file}: export_window_start must be a date "
                                f"(YYYY-MM-DD), got {config.get('export_window_start')!r}")
        compute = config.get("compute", "local")
        if compute != "local":
            # Imported only then: the forecasting package loads statsforecast and scipy
            # (seconds), which reading the settings of a local store does not need.
            from forecasting.compute import COMPUTE

            if compute not in COMPUTE:
                raise SettingsError(f"{config_file}: compute must be one of "
                                    f"{', '.join(COMPUTE)}, got {compute!r}")
        sources = config.get("sources") or {}
        if not isinstance(sources, dict):
            raise SettingsError(f"{config_file}: sources must be a mapping of vendor to "
                                f"settings (sources: shopify: shop: ...), got {sources!r}")
        delivery = config.get("delivery") or {}
        if delivery:
            from orchestration.delivery.settings import DeliveryConfigError, DeliverySettings

            try:
                DeliverySettings.from_config(delivery, str(config_file))
            except DeliveryConfigError as exc:
                raise SettingsError(str(exc)) from None
        return cls(
            home=home_path,
            landing=Path(landing_path).resolve() if landing_path else home_path / "landing",
            timezone=config.get("timezone", DEFAULT_TIMEZONE),
            currency=config.get("currency", DEFAULT_CURRENCY),
            replenishment=ReplenishmentSettings.from_config(config.get("replenishment"),
                                                            str(config_file)),
            taxes_included=taxes_included,
            export_window_start=window_start,
            timezone_configured="timezone" in config,
            compute=compute,
            sources=sources,
            delivery=delivery,
            profit=ProfitSettings.from_config(config.get("profit"), str(config_file)),
        )

    def child_env(self) -> dict[str, str]:
        """Environment variables that point a separate process (`dagster dev`, a bare `dbt`)
        at this home; this process' own environment is left as it is."""
        return {HOME_ENV: str(self.home), LANDING_ENV: str(self.landing),
                "DAGSTER_HOME": str(self.dagster_home),
                # Nothing may call home.
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "true"}
