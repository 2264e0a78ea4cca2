"""The metrics the anomaly detector knows: how each is modelled and which way it hurts.

`METRICS` maps each metric of `kpi_series` output to its `Metric` (noise model, the
directions that raise an alert, the sampling spread of amounts, the unit its driver is
named in). `BREAKDOWN_ONLY` metrics alert on the store level only.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Metric:
    """How a metric is modelled and which way it hurts."""

    noise: str  # "count" (Poisson), "rate" (binomial on `volume`) or "amount" (log scale)
    directions: tuple[str, ...]  # the directions that raise an alert
    # amounts only: relative sd of the value when it is built from `volume` units, times
    # sqrt(volume) (revenue from n orders varies by ~sqrt(1 + cv^2)/sqrt(n), cv ~ 1).
    unit_cv: float = 0.0
    driver_unit: str | None = None  # unit of the driver text; None: no driver


METRICS: dict[str, Metric] = {
    "revenue": Metric("amount", ("down",), 1.4, "money"),
    "orders": Metric("count", ("down",), driver_unit="orders"),
    "conversion_rate": Metric("rate", ("down",), driver_unit="orders"),
    "aov": Metric("amount", ("down", "up"), 1.0, "money"),
    "spend": Metric("amount", ("down", "up")),
    "cac": Metric("amount", ("up",), 1.0),
    "roas": Metric("amount", ("down",), 1.4),
    "return_rate": Metric("rate", ("up",), driver_unit="refunded lines"),
    "ticket_volume": Metric("count", ("up",), driver_unit="tickets"),
    # The median of n reply times: sd(log median) ~ 1.25 sd(log reply) / sqrt(n).
    "first_reply_minutes": Metric("amount", ("up",), 1.5),
}
# Per-channel revenue, orders, conversion and AOV only explain a store-level alert (the
# driver); alerting on them too would repeat every store-level alert once per channel.
BREAKDOWN_ONLY = ("revenue", "orders", "conversion_rate", "aov")


def _spec_column(field: str, dtype: pl.DataType) -> pl.Expr:
    mapping = {name: getattr(spec, field) for name, spec in METRICS.items()}
    if field == "directions":
        mapping = {name: ",".join(value) for name, value in mapping.items()}
    return pl.col("metric").replace_strict(mapping, return_dtype=dtype)
