"""ShipStation shipments export (`shipping/shipstation_shipments_<YYYY>-Q<n>.csv`): one
file per calendar quarter of ship dates, one row per label, and one row pasted twice."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY
from orchestration.demo.shipments import SERVICES, Labels
from orchestration.demo.writers.format import Landing, _gather, lit_str, money

SHIPMENTS_HEADER = [
    "Shipment ID",
    "Order Number",
    "Create Date",
    "Ship Date",
    "Carrier",
    "Service",
    "Package",
    "Weight",
    "Weight Units",
    "Shipment Cost",
    "Insurance Cost",
    "Tracking Number",
    "Is Return Label",
    "Voided",
    "Void Date",
]
SHIPMENT_ID_BASE = 52_000_000  # + the label's position in creation order


def _us_local(utc_s: np.ndarray, fmt: str) -> pl.Series:
    """UTC seconds as the account's (store) local time in US style, e.g. `11/02/2026 15:45`."""
    local = pl.Series(cal.utc_to_local(utc_s))
    return pl.select(pl.from_epoch(local, time_unit="s").dt.strftime(fmt)).to_series()


def write_shipments(landing: Landing, labels: Labels, rng: np.random.Generator) -> dict:
    """Write the quarterly files, rows in creation order. One row of one file (drawn with
    `rng`) is written twice in a row, exactly repeated.

    Returns files (names written), duplicated_row ({file, shipment_id})."""
    lab = labels
    voided = lab.voided
    frame = pl.DataFrame(
        {
            "Shipment ID": pl.Series(SHIPMENT_ID_BASE + np.arange(lab.n)).cast(pl.String),
            "Order Number": pl.Series(lab.order_number.astype(str), dtype=pl.String),
            "Create Date": _us_local(lab.created, "%m/%d/%Y %H:%M"),
            "Ship Date": _us_local(lab.created, "%m/%d/%Y"),
            "Carrier": _gather([s[0] for s in SERVICES], lab.service),
            "Service": _gather([s[1] for s in SERVICES], lab.service),
            "Weight": pl.Series(lab.weight_oz).cast(pl.String),
            "Shipment Cost": pl.select(money(pl.Series(lab.cost))).to_series(),
            "Insurance Cost": pl.select(money(pl.Series(lab.insurance))).to_series(),
            "Tracking Number": pl.Series(lab.tracking.astype(str), dtype=pl.String),
            "Is Return Label": pl.Series(np.where(lab.is_return, "true", "false")),
            "Voided": pl.Series(np.where(voided, "true", "false")),
            "Void Date": pl.select(
                pl.when(pl.Series(voided)).then(
                    _us_local(np.where(voided, lab.void_at, 0), "%m/%d/%Y %H:%M")
                )
            ).to_series(),
        }
    ).with_columns(lit_str("Package").alias("Package"), lit_str("ounces").alias("Weight Units"))
    ship_day = cal.utc_to_local(lab.created) // DAY
    d64 = ship_day.astype("datetime64[D]")
    year = d64.astype("datetime64[Y]").astype(np.int64) + 1970
    quarter = (d64.astype("datetime64[M]").astype(np.int64) % 12) // 3 + 1
    key = year * 10 + quarter
    keys = np.unique(key)
    dup_key = int(keys[rng.integers(0, keys.size)])
    names, duplicate = [], {}
    for k in keys.tolist():
        rows = np.flatnonzero(key == k)
        part = frame[rows]
        name = f"shipping/shipstation_shipments_{k // 10}-Q{k % 10}.csv"
        if k == dup_key:
            at = int(rng.integers(0, rows.size))
            part = pl.concat([part[: at + 1], part[at : at + 1], part[at + 1 :]])
            duplicate = {"file": name, "shipment_id": part["Shipment ID"][at]}
        landing.write_csv(name, part, SHIPMENTS_HEADER)
        names.append(name)
    return {"files": names, "duplicated_row": duplicate}
