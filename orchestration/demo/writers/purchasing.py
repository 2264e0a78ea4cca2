"""Purchasing exports (`purchasing/`): suppliers, the supplier of each SKU, and purchase
order lines."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.catalog import Catalog
from orchestration.demo.operations import PurchaseOrderLines
from orchestration.demo.writers.format import Landing, _gather, money


def write_purchasing(
    landing: Landing,
    catalog: Catalog,
    pos: PurchaseOrderLines,
    *,
    first_day_number: int,
    last_sim_day: int,
) -> None:
    sup = catalog.suppliers
    landing.write_csv(
        "purchasing/suppliers.csv",
        pl.DataFrame(
            {
                "supplier": [s.name for s in sup],
                "lead_time_days": [str(s.lead_time_days) for s in sup],
                "lead_time_std_days": [f"{s.lead_time_std_days:.1f}" for s in sup],
                "moq_units": [str(s.moq_units) for s in sup],
                "case_pack": [str(s.case_pack) for s in sup],
                "order_cycle_days": [str(s.order_cycle_days) for s in sup],
                "currency": ["USD"] * len(sup),
            }
        ),
        [
            "supplier",
            "lead_time_days",
            "lead_time_std_days",
            "moq_units",
            "case_pack",
            "order_cycle_days",
            "currency",
        ],
    )
    skus = np.flatnonzero(catalog.active)
    landing.write_csv(
        "purchasing/sku_suppliers.csv",
        pl.DataFrame(
            {
                "sku": _gather(catalog.sku, skus),
                "supplier": _gather([s.name for s in sup], catalog.supplier[skus]),
                "unit_cost": pl.select(money(pl.Series(catalog.cost[skus]))).to_series(),
                "moq_units": pl.Series(catalog.moq[skus]).cast(pl.String),
                "case_pack": pl.Series(catalog.case_pack[skus]).cast(pl.String),
            }
        ),
        ["sku", "supplier", "unit_cost", "moq_units", "case_pack"],
    )
    arrived = (pos.arrival_day <= last_sim_day) & ~pos.cancelled
    # A short shipment is closed: the line is "received" with qty_received < qty_ordered.
    # "partial" is kept for lines with more units still to come, which this simulation
    # (one arrival per line) does not produce.
    status = np.where(pos.cancelled, "cancelled", np.where(~arrived, "open", "received"))
    order = np.lexsort((pos.sku, pos.po_number))
    frame = pl.DataFrame(
        {
            "po_number": "PO-" + pl.Series(10000 + pos.po_number[order]).cast(pl.String),
            "supplier": _gather([s.name for s in sup], pos.supplier[order]),
            "sku": _gather(catalog.sku, pos.sku[order]),
            "qty_ordered": pl.Series(pos.qty_ordered[order]).cast(pl.String),
            "qty_received": pl.Series(np.where(arrived, pos.qty_received, 0)[order]).cast(
                pl.String
            ),
            "ordered_at": cal.fmt_day(pl.Series(first_day_number + pos.ordered_day[order])),
            "expected_at": cal.fmt_day(pl.Series(first_day_number + pos.expected_day[order])),
            "received_at": pl.select(
                pl.when(pl.Series(arrived[order])).then(
                    cal.fmt_day(pl.Series(first_day_number + pos.arrival_day[order]))
                )
            ).to_series(),
            "status": pl.Series(status[order].astype(str)),
        }
    )
    landing.write_csv(
        "purchasing/purchase_orders.csv",
        frame,
        [
            "po_number",
            "supplier",
            "sku",
            "qty_ordered",
            "qty_received",
            "ordered_at",
            "expected_at",
            "received_at",
            "status",
        ],
    )
