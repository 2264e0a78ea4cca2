"""The files a buyer receives: one CSV and one XLSX per supplier, plus summary.csv.

`write_reorder_files(suggestions, out_dir, *, as_of, currency)` takes the output of
`forecasting.reorder_suggestions` and writes `out_dir/<supplier>.csv|.xlsx` with the
columns of DESIGN.md ("Outputs") for the SKUs to order (suggested_qty > 0), and
`summary.csv` with one row per supplier. Files are written to a temporary name and
renamed, so a reader never sees half a file. No customer data is in these files.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl

from dashboards.files import atomic_write as _atomic_write

BUYER_COLUMNS = [
    "sku", "product", "on_hand", "on_order", "committed", "daily_forecast", "lead_time_days",
    "safety_stock", "reorder_point", "days_of_cover", "projected_stockout_date", "suggested_qty",
    "unit_cost", "line_value", "urgency", "reason", "approved_qty",
]
SUMMARY_COLUMNS = ["supplier", "lines", "order_now_lines", "order_soon_lines", "units",
                   "order_value", "currency", "earliest_stockout_date", "file_csv", "file_xlsx"]
URGENCY_ORDER = ["order_now", "order_soon", "healthy", "overstock"]
URGENCY_LABEL = {"order_now": "Order now", "order_soon": "Order soon", "healthy": "Healthy",
                 "overstock": "Overstock"}


def supplier_file_stem(supplier: str) -> str:
    """A file name a buyer recognises: the supplier's name, made safe for any filesystem."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", supplier.strip()).strip("._")
    return stem or "unknown_supplier"


def _buyer_frame(lines: pl.DataFrame) -> pl.DataFrame:
    rank = {u: i for i, u in enumerate(URGENCY_ORDER)}
    return (
        lines.with_columns(pl.col("urgency").replace_strict(rank, default=9).alias("_rank"))
        .sort(["_rank", "line_value"], descending=[False, True])
        .select(
            pl.col("sku"), pl.col("product"),
            *(pl.col(c).cast(pl.Int64) for c in ("on_hand", "on_order", "committed")),
            pl.col("daily_forecast").cast(pl.Float64).round(2),
            pl.col("lead_time_days").cast(pl.Float64).round(1),
            pl.col("safety_stock").cast(pl.Float64).round(0).cast(pl.Int64),
            pl.col("reorder_point").cast(pl.Float64).round(0).cast(pl.Int64),
            pl.col("days_of_cover").cast(pl.Float64).round(1),
            pl.col("projected_stockout_date"),
            pl.col("suggested_qty").cast(pl.Int64),
            pl.col("unit_cost").cast(pl.Float64).round(2),
            pl.col("line_value").cast(pl.Float64).round(2),
            pl.col("urgency"), pl.col("reason"),
            pl.lit(None, pl.Int64).alias("approved_qty"),
        )
    )


def _write_xlsx(path: Path, frame: pl.DataFrame, *, supplier: str, as_of: date,
                currency: str) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#1f3a5f", "font_color": "#ffffff",
                                  "text_wrap": True, "valign": "top", "border": 1})
    money = workbook.add_format({"num_format": f'#,##0.00 "{currency}"'})
    money_bold = workbook.add_format({"num_format": f'#,##0.00 "{currency}"', "bold": True,
                                      "top": 1})
    integer = workbook.add_format({"num_format": "#,##0"})
    integer_bold = workbook.add_format({"num_format": "#,##0", "bold": True, "top": 1})
    decimal1 = workbook.add_format({"num_format": "0.0"})
    decimal2 = workbook.add_format({"num_format": "0.00"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    approve = workbook.add_format({"bg_color": "#fff7d6", "border": 1, "num_format": "#,##0"})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    formats = {
        "on_hand": integer, "on_order": integer, "committed": integer, "safety_stock": integer,
        "reorder_point": integer, "suggested_qty": integer, "daily_forecast": decimal2,
        "lead_time_days": decimal1, "days_of_cover": decimal1, "unit_cost": money,
        "line_value": money, "projected_stockout_date": date_format, "approved_qty": approve,
    }
    widths = {"sku": 16, "product": 30, "reason": 60, "urgency": 12,
              "projected_stockout_date": 14, "approved_qty": 12}

    # One sheet per urgency, most urgent first, so a buyer works top-down; each sheet
    # has its own totals. An "All lines" sheet comes last for filtering and sorting.
    groups = [(URGENCY_LABEL[u], frame.filter(pl.col("urgency") == u)) for u in URGENCY_ORDER]
    groups = [(name, g) for name, g in groups if g.height] + [("All lines", frame)]
    for name, rows in groups:
        sheet = workbook.add_worksheet(name)
        sheet.write(0, 0, f"Purchase suggestion for {supplier}, as of {as_of.isoformat()}", bold)
        sheet.write(1, 0, "Fill approved_qty (yellow) and return the file to landing/approvals/.")
        top = 3
        for col, column in enumerate(BUYER_COLUMNS):
            sheet.write(top, col, column, header)
            sheet.set_column(col, col, widths.get(column, 11), formats.get(column))
        for r, row in enumerate(rows.iter_rows(named=True), start=top + 1):
            for col, column in enumerate(BUYER_COLUMNS):
                value = row[column]
                if column == "approved_qty":
                    sheet.write_blank(r, col, None, approve)
                elif value is None:
                    sheet.write_blank(r, col, None, formats.get(column))
                elif column == "projected_stockout_date":
                    sheet.write_datetime(r, col, value, date_format)
                elif column == "reason":
                    sheet.write_string(r, col, value, wrap)
                else:
                    sheet.write(r, col, value, formats.get(column))
        total_row = top + 1 + rows.height
        sheet.write(total_row, 0, "Total", bold)
        qty_col = BUYER_COLUMNS.index("suggested_qty")
        value_col = BUYER_COLUMNS.index("line_value")
        # Values are written, not formulas, so the totals show in any viewer.
        sheet.write_number(total_row, qty_col, int(rows["suggested_qty"].sum() or 0), integer_bold)
        sheet.write_number(total_row, value_col, float(rows["line_value"].sum() or 0), money_bold)
        sheet.freeze_panes(top + 1, 2)
        sheet.autofilter(top, 0, max(top, total_row - 1), len(BUYER_COLUMNS) - 1)
    workbook.close()


def write_reorder_files(suggestions: pl.DataFrame, out_dir: Path, *, as_of: date,
                        currency: str = "USD") -> pl.DataFrame:
    """Write one CSV and XLSX per supplier with lines to order; returns the summary frame."""
    missing = [c for c in ["supplier_id", *BUYER_COLUMNS] if c not in suggestions.columns
               and c != "approved_qty"]
    if missing:
        raise ValueError(f"suggestions is missing column(s) {', '.join(map(repr, missing))}")
    to_order = suggestions.filter(pl.col("suggested_qty") > 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary_rows = []
    for supplier in sorted(to_order["supplier_id"].fill_null("unknown supplier").unique().to_list()):
        lines = to_order.filter(pl.col("supplier_id").fill_null("unknown supplier") == supplier)
        frame = _buyer_frame(lines)
        stem = supplier_file_stem(supplier)
        csv_path, xlsx_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.xlsx"
        _atomic_write(csv_path, lambda p, f=frame: f.write_csv(p))
        _atomic_write(xlsx_path, lambda p, f=frame, s=supplier: _write_xlsx(
            p, f, supplier=s, as_of=as_of, currency=currency))
        stockouts = frame["projected_stockout_date"].drop_nulls()
        summary_rows.append({
            "supplier": supplier,
            "lines": frame.height,
            "order_now_lines": frame.filter(pl.col("urgency") == "order_now").height,
            "order_soon_lines": frame.filter(pl.col("urgency") == "order_soon").height,
            "units": int(frame["suggested_qty"].sum()),
            "order_value": round(float(frame["line_value"].sum()), 2),
            "currency": currency,
            "earliest_stockout_date": stockouts.min() if stockouts.len() else None,
            "file_csv": csv_path.name,
            "file_xlsx": xlsx_path.name,
        })
    summary = pl.DataFrame(
        summary_rows,
        schema={"supplier": pl.Utf8, "lines": pl.Int64, "order_now_lines": pl.Int64,
                "order_soon_lines": pl.Int64, "units": pl.Int64, "order_value": pl.Float64,
                "currency": pl.Utf8, "earliest_stockout_date": pl.Date, "file_csv": pl.Utf8,
                "file_xlsx": pl.Utf8},
    ).sort(["order_now_lines", "order_value"], descending=True)
    _atomic_write(out_dir / "summary.csv", lambda p: summary.write_csv(p))
    return summary
