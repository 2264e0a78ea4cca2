"""Resources shared by every domain: the DuckDB warehouse and the store's settings."""


import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration import warehouse_handle
from orchestration.settings import DEFAULT_EXPORT_WINDOW_START, ReplenishmentSettings, Settings


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse of one storeops home (DuckDB allows one writer at a time)."""

    path: str

    @contextmanager
    def connect(self, *, read_only: bool = False, timeout_s: float = 120.0
                ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection, closed on exit; waits while another process holds the write lock
        (dbt, a second run). Within a CLI run the file stays open between connections
        (orchestration.warehouse_handle)."""
        with warehouse_handle.connect(self.path, read_only=read_only, timeout_s=timeout_s) as con:
            yield con


class StoreResource(dg.ConfigurableResource):
    """The store's settings (storeops.yml, read once by the CLI or the code location) as the
    assets see them: home, landing, timezone, currency, tax setting and replenishment.

    taxes_included: "true", "false" or "auto" (told per order); export_window_start: ISO
    date; timezone_configured: False when storeops.yml does not set the timezone;
    service_level ... auto_approve_below: the `replenishment:` section
    (orchestration.settings.ReplenishmentSettings, same meanings and units); compute: where
    the forecasts run (forecasting.compute); sources_json: the `sources:` section (the
vendors' APIs to pull, orchestration.pull) as JSON; delivery_json: the `delivery:` section
(orchestration.delivery) as JSON; profit_json: the `profit:` section (fulfilment costs,
gateway fees) as the dbt vars it becomes."""

    home: str
    landing: str
    timezone: str
    currency: str
    taxes_included: str = "auto"
    export_window_start: str = DEFAULT_EXPORT_WINDOW_START.isoformat()
    timezone_configured: bool = True
    service_level: dict[str, float] | None = None
    budget_per_cycle: float | None = None
    storage_capacity: dict[str, float] | None = None
    auto_approve_below: float = 0.0
    compute: str = "local"
    # storeops.yml's `sources:` as JSON (vendor -> settings; no credentials there).
    sources_json: str = "{}"
    # storeops.yml's `delivery:` as JSON (recipients, SMTP, Slack; no passwords or URLs).
    delivery_json: str = "{}"
    # storeops.yml's `profit:` as the dbt vars it becomes (ProfitSettings.dbt_vars): it
    # changes contribution margins, so it is part of the build fingerprint.
    profit_json: str = "{}"

    @property
    def delivery(self):
        """The checked `delivery:` section (orchestration.delivery.settings)."""
        from orchestration.delivery.settings import DeliverySettings

        return DeliverySettings.from_config(json.loads(self.delivery_json))

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def replenishment(self) -> ReplenishmentSettings:
        return ReplenishmentSettings(
            service_level=dict(self.service_level or {}), budget_per_cycle=self.budget_per_cycle,
            storage_capacity=dict(self.storage_capacity or {}),
            auto_approve_below=self.auto_approve_below)


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "store": StoreResource(
            home=str(settings.home),
            landing=str(settings.landing),
            timezone=settings.timezone,
            currency=settings.currency,
            taxes_included={None: "auto", True: "true", False: "false"}[settings.taxes_included],
            export_window_start=settings.export_window_start.isoformat(),
            timezone_configured=settings.timezone_configured,
            service_level=settings.replenishment.service_level,
            budget_per_cycle=settings.replenishment.budget_per_cycle,
            storage_capacity=settings.replenishment.storage_capacity,
            auto_approve_below=settings.replenishment.auto_approve_below,
            compute=settings.compute,
            sources_json=json.dumps(settings.sources, sort_keys=True, default=str),
            delivery_json=json.dumps(settings.delivery, sort_keys=True, default=str),
            profit_json=json.dumps(settings.profit.dbt_vars(), sort_keys=True),
        ),
    }


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """A query's result as a polars DataFrame (duckdb 2.x: relations, not cursors, have .pl())."""
    return con.sql(sql, params=params).pl()
