"""The demo store generator on a tiny store (scale 0.02, 90 days)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import io
import json
from pathlib import Path

import polars as pl
import pytest

from orchestration.demo import DEFAULT_END_DATE, DemoSummary, generate_store
from orchestration.demo.truth import COLUMNS, MONEY_COLUMNS

FORMATS = Path(__file__).parents[2].parent / "shared" / "formats"
# Formats storeops added itself live in the repository (docs/formats/README.md).
REPO_FORMATS = Path(__file__).parents[2] / "docs" / "formats"
SCALE, DAYS = 0.02, 90

# landing folder -> (file glob, format file, number of title lines before the header)
CSV_FORMATS = {
    "shopify/orders": ("orders_*.csv", "shopify_orders.csv", 0),
    "shopify/products": ("products_export_*.csv", "shopify_products.csv", 0),
    "shopify/inventory": ("inventory_2*.csv", "shopify_inventory.csv", 0),
    "shopify/customers": ("customers_export.csv", "shopify_customers.csv", 0),
    "meta_ads": ("meta_ads_*.csv", "meta_ads.csv", 0),
    "google_ads": ("google_ads_*.csv", "google_ads.csv", 2),
    "tiktok_ads": ("tiktok_ads_*.csv", "tiktok_ads.csv", 0),
    "zendesk": ("zendesk_tickets_*.csv", "zendesk_tickets.csv", 0),
    "shopify/payouts": ("payment_transactions_export_*.csv", "shopify_payment_transactions.csv", 0),
    "shipping": ("shipstation_shipments_*.csv", "shipstation_shipments.csv", 0),
}
FOLDERS = [*CSV_FORMATS, "gorgias", "purchasing", "analytics"]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _header(path: Path, skip: int = 0) -> str:
    if not path.exists():
        path = REPO_FORMATS / path.name
    text = path.read_bytes().decode("utf-8-sig")
    return text.split("\n")[skip]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def store(home: Path) -> DemoSummary:
    return generate_store(home, scale=SCALE, days=DAYS, seed=7)


@pytest.fixture(scope="module")
def stats(store: DemoSummary) -> dict:
    return json.loads((store.truth_dir / "summary.json").read_text())["stats"]


@pytest.fixture(scope="module")
def truth(store: DemoSummary) -> pl.DataFrame:
    return pl.read_parquet(store.truth_dir / "orders.parquet")


@pytest.fixture(scope="module")
def orders(store: DemoSummary, stats: dict) -> pl.DataFrame:
    """All order lines, each order taken from the newest export that has it, the block
    of rows pasted twice (see the answer key) counted once."""
    files = sorted((store.landing_dir / "shopify/orders").glob("*.csv"))
    dup = stats["duplicated_order_rows"]
    frames = []
    for i, f in enumerate(files):
        frame = pl.read_csv(f, infer_schema=False).with_columns(pl.lit(i).alias("_file"))
        if f.relative_to(store.landing_dir).as_posix() == dup["file"]:
            frame = frame.filter(
                (pl.col("Name") != dup["order"]) | pl.struct(pl.all()).is_first_distinct()
            )
        frames.append(frame)
    # The trailing blank lines of an export read as empty rows.
    lines = pl.concat(frames).filter(pl.col("Name").is_not_null())
    return lines.filter(pl.col("_file") == pl.col("_file").max().over("Name"))


def _cents(col: str) -> pl.Expr:
    """A money string of the export (`12.50`) as integer cents."""
    return (pl.col(col).cast(pl.Decimal(18, 2)) * 100).cast(pl.Int64)


def test_summary(store: DemoSummary, home: Path) -> None:
    assert store.landing_dir == home / "landing"
    assert store.truth_dir == home / "demo_truth"
    assert store.end_date == DEFAULT_END_DATE
    assert store.start_date == DEFAULT_END_DATE - dt.timedelta(days=DAYS - 1)
    assert store.n_skus >= 10
    assert store.n_suppliers >= 3
    assert store.n_customers >= 300
    assert store.n_orders > 3 * DAYS
    assert store.n_order_lines >= store.n_orders
    assert store.n_tickets > 0
    assert store.files == sum(1 for p in store.landing_dir.rglob("*") if p.is_file())


def test_every_source_folder_has_files(store: DemoSummary) -> None:
    for folder in FOLDERS:
        assert any((store.landing_dir / folder).iterdir()), folder
    purchasing = {p.name for p in (store.landing_dir / "purchasing").iterdir()}
    assert purchasing == {"suppliers.csv", "sku_suppliers.csv", "purchase_orders.csv"}
    analytics = {p.name for p in (store.landing_dir / "analytics").iterdir()}
    assert analytics == {"sessions.csv", "promotions.csv"}
    truth = {p.name for p in store.truth_dir.iterdir()}
    assert truth == {
        "incidents.json",
        "README.md",
        "summary.json",
        "true_demand.parquet",
        "response_curves.json",
        "response_daily.csv",
        "orders.parquet",
        "profit.json",
        "creative_fatigue.csv",
    }


@pytest.mark.skipif(not FORMATS.is_dir(), reason="shared/formats not available")
def test_headers_match_vendor_formats(store: DemoSummary, stats: dict) -> None:
    comma = store.landing_dir / stats["decimal_comma_file"]["file"]
    for folder, (pattern, fmt, skip) in CSV_FORMATS.items():
        expected = _header(FORMATS / fmt, skip)
        files = sorted((store.landing_dir / folder).glob(pattern))
        assert files, folder
        for f in files:
            if f == comma:  # re-saved by a decimal-comma spreadsheet: same columns, `;`
                assert _header(f, skip) == expected.replace(",", ";") + "\r", f.name
            else:
                assert _header(f, skip) == expected, f.name
    # Google Ads: the two title lines look like the vendor's.
    google = min((store.landing_dir / "google_ads").glob("*.csv"))
    assert _header(google, 0) == "Campaign performance report"
    assert _header(google, 1).startswith('"') and " - " in _header(google, 1)
    # Older inventory snapshots: as_of first, quantity columns without suffixes.
    history = sorted((store.landing_dir / "shopify/inventory").glob("inventory_history_*.csv"))
    assert history
    new_header = _header(FORMATS / "shopify_inventory.csv").split(",")
    old = [
        "as_of",
        *new_header[:13],
        "Incoming",
        "Unavailable",
        "Committed",
        "Available",
        "On hand",
    ]
    assert _header(history[0]).split(",") == old
    # Gorgias: the same keys, in the same order, as the vendor example.
    example = json.loads((FORMATS / "gorgias_tickets.jsonl").read_text().splitlines()[0])
    for f in sorted((store.landing_dir / "gorgias").glob("*.jsonl")):
        ticket = json.loads(f.read_text().splitlines()[0])
        assert list(ticket) == list(example)
        assert list(ticket["customer"]) == list(example["customer"])
        assert all(list(tag) == ["id", "name"] for tag in ticket["tags"])


def test_export_quirks(store: DemoSummary) -> None:
    files = sorted((store.landing_dir / "shopify/orders").glob("*.csv"))
    assert files[0].read_bytes().startswith(b"\xef\xbb\xbf")
    assert any(f.read_bytes().endswith(b"\n\n\n") for f in files)
    google = max((store.landing_dir / "google_ads").glob("*.csv")).read_text()
    assert google.rstrip("\n").split("\n")[-1].startswith("Total:")
    meta = pl.read_csv(min((store.landing_dir / "meta_ads").glob("*.csv")))
    assert (meta["Reporting starts"] == meta["Reporting ends"]).all()


def test_same_seed_same_bytes(store: DemoSummary, home: Path, tmp_path: Path) -> None:
    again = generate_store(tmp_path, scale=SCALE, days=DAYS, seed=7)
    assert again.n_orders == store.n_orders
    assert _digest(tmp_path / "landing") == _digest(home / "landing")
    assert _digest(tmp_path / "demo_truth") == _digest(home / "demo_truth")


def test_different_seed_different_store(home: Path, tmp_path: Path) -> None:
    generate_store(tmp_path, scale=SCALE, days=DAYS, seed=8)
    mine, theirs = _digest(tmp_path / "landing"), _digest(home / "landing")
    assert mine != theirs
    assert mine.get("shopify/customers/customers_export.csv") != theirs.get(
        "shopify/customers/customers_export.csv"
    )


def test_incidents_are_inside_the_window(store: DemoSummary) -> None:
    incidents = json.loads((store.truth_dir / "incidents.json").read_text())
    kinds = {i["kind"] for i in incidents}
    assert kinds == {
        "conversion_rate_drop",
        "return_rate_spike",
        "cac_spike",
        "ticket_volume_spike",
        "supplier_late",
    }
    for inc in incidents:
        assert set(inc) >= {
            "id",
            "kind",
            "metric",
            "dimension",
            "start_date",
            "end_date",
            "magnitude",
            "description",
        }
        start = dt.date.fromisoformat(inc["start_date"])
        end = dt.date.fromisoformat(inc["end_date"])
        assert store.start_date <= start <= end <= store.end_date, inc["kind"]
        assert inc["dimension"]
    cac = next(i for i in incidents if i["kind"] == "cac_spike")
    assert cac["end_date"] == store.end_date.isoformat()
    summary = json.loads((store.truth_dir / "summary.json").read_text())
    assert summary["parameters"] == {
        "scale": SCALE,
        "days": DAYS,
        "seed": 7,
        "end_date": store.end_date.isoformat(),
    }
    assert summary["stats"]["late_supplier_open_overdue_pos"]


def test_orders(store: DemoSummary, orders: pl.DataFrame) -> None:
    first = orders.filter(pl.col("Subtotal").is_not_null())
    assert first.height == store.n_orders
    lines_per_order = orders.height / first.height
    assert 1.1 <= lines_per_order <= 2.2
    # Later rows of an order carry no order-level money or address.
    later = orders.filter(pl.col("Subtotal").is_null())
    assert later["Total"].is_null().all() and later["Billing Name"].is_null().all()
    products = later.filter(pl.col("Lineitem requires shipping") == "true")
    assert products["Lineitem sku"].is_not_null().all()
    # Tips and gift cards: no SKU, no shipping, no tax, quantity 1.
    extra = orders.filter(pl.col("Lineitem requires shipping") == "false")
    assert extra["Lineitem sku"].is_null().all()
    assert (extra["Lineitem taxable"] == "false").all() and (
        extra["Lineitem quantity"] == "1"
    ).all()
    assert extra["Lineitem name"].str.contains(r"^(Tip|Gift Card - \$\d+)$").all()
    assert (extra["Lineitem name"] == "Tip").any()
    assert extra["Lineitem name"].str.starts_with("Gift Card").any()
    assert first["Created at"].str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]00$").all()
    assert first["Total"].str.contains(r"^\d+\.\d\d$").all()
    days = first["Created at"].str.slice(0, 10).str.to_date()
    assert days.min() >= store.start_date and days.max() <= store.end_date
    assert days.n_unique() == DAYS  # a few orders every day, even for a tiny store
    assert first["Tags"].fill_null("").str.contains("test").sum() >= 3
    utm = first["Note Attributes"].fill_null("")
    assert utm.str.contains("utm_source: klaviyo").any()
    assert utm.str.contains("utm_source: (facebook|instagram)").any()


def test_stockouts_censor_demand(store: DemoSummary) -> None:
    truth = pl.read_parquet(store.truth_dir / "true_demand.parquet")
    assert truth.columns == ["sku", "date", "demand_units", "sales_units", "on_hand_end"]
    assert truth.height == store.n_skus * DAYS
    assert (truth["sales_units"] <= truth["demand_units"]).all()
    censored = (truth["demand_units"] > truth["sales_units"]).mean()
    assert 0.002 <= censored <= 0.15
    stats = json.loads((store.truth_dir / "summary.json").read_text())["stats"]
    assert 0.005 <= stats["stockout_share_sku_days"] <= 0.2


def test_promotions_include_an_upcoming_one(store: DemoSummary) -> None:
    promos = pl.read_csv(store.landing_dir / "analytics/promotions.csv", infer_schema=False)
    assert promos.columns == [
        "name",
        "starts_on",
        "ends_on",
        "skus",
        "collection",
        "expected_uplift",
    ]
    starts = promos["starts_on"].str.to_date()
    upcoming = promos.filter(
        (starts > store.end_date) & (starts <= store.end_date + dt.timedelta(days=30))
    )
    assert upcoming.height >= 1
    assert promos["name"].n_unique() == promos.height


def test_rejects_too_short_window(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days"):
        generate_store(tmp_path, scale=SCALE, days=20)


# ---------------------------------------------------------------- the money answer key


def test_answer_key_orders(store: DemoSummary, truth: pl.DataFrame) -> None:
    assert truth.columns == COLUMNS
    assert truth.height == store.n_orders
    assert truth["order_name"].n_unique() == truth.height
    for c in MONEY_COLUMNS:
        assert truth[c].dtype == pl.Decimal(18, 2), c
    assert truth["order_date"].min() >= store.start_date
    assert truth["order_date"].max() <= store.end_date
    assert truth["is_test"].sum() >= 3


def test_answer_key_identity_to_the_cent(truth: pl.DataFrame) -> None:
    live = truth.filter(~pl.col("is_cancelled"))
    lhs = (
        pl.col("net_sales")
        + (pl.col("shipping") - pl.col("refunded_shipping"))
        + (pl.col("taxes") - pl.col("refunded_taxes"))
        + pl.col("tips")
        + pl.col("gift_card_sales")
    )
    bad = live.filter(lhs != pl.col("total") - pl.col("refunded"))
    assert bad.height == 0, bad.head()
    net = pl.col("gross_sales") - pl.col("discounts") - pl.col("returns")
    assert truth.filter(pl.col("net_sales") != net).height == 0
    for c in MONEY_COLUMNS:
        assert (truth[c] >= 0).all(), c
    assert (live["net_sales"] >= 0).all()
    # A cancelled order's sale is reversed.
    assert (truth.filter(pl.col("is_cancelled"))["net_sales"] == 0).all()


def test_answer_key_matches_the_export(orders: pl.DataFrame, truth: pl.DataFrame) -> None:
    first = orders.filter(pl.col("Subtotal").is_not_null())
    extra = (
        orders.with_columns(_cents("Lineitem price").alias("_price"))
        .group_by("Name")
        .agg(
            pl.col("_price").filter(pl.col("Lineitem name") == "Tip").sum().alias("_tips"),
            pl.col("_price")
            .filter(pl.col("Lineitem name").str.starts_with("Gift Card"))
            .sum()
            .alias("_gift"),
            (pl.col("_price") * pl.col("Lineitem quantity").cast(pl.Int64))
            .filter(pl.col("Lineitem requires shipping") == "true")
            .sum()
            .alias("_gross"),
        )
    )
    cents = truth.select(
        "order_name",
        "taxes_included",
        "is_cancelled",
        "is_test",
        *[(pl.col(c) * 100).cast(pl.Int64).alias(c) for c in MONEY_COLUMNS],
    )
    j = (
        first.select(
            "Name",
            "Cancelled at",
            "Tags",
            "Tax 1 Name",
            *[
                _cents(c).alias(c)
                for c in [
                    "Subtotal",
                    "Shipping",
                    "Taxes",
                    "Total",
                    "Discount Amount",
                    "Refunded Amount",
                ]
            ],
        )
        .join(extra, on="Name")
        .join(cents, left_on="Name", right_on="order_name", how="full", coalesce=True)
    )
    assert j.height == truth.height == first.height
    assert (j["Total"] == j["total"]).all()
    assert (j["Refunded Amount"] == j["refunded"]).all()
    assert (j["Taxes"] == j["taxes"]).all()
    assert (j["_tips"] == j["tips"]).all() and (j["_gift"] == j["gift_card_sales"]).all()
    assert (j["Cancelled at"].is_not_null() == j["is_cancelled"]).all()
    assert (j["Tags"].fill_null("").str.contains("test") == j["is_test"]).all()
    incl, excl = j.filter(pl.col("taxes_included")), j.filter(~pl.col("taxes_included"))
    # Tax-inclusive: Total = Subtotal + Shipping, Taxes = the VAT inside; ex-VAT amounts.
    assert incl.height > 0
    assert (incl["Total"] == incl["Subtotal"] + incl["Shipping"]).all()
    assert incl["Tax 1 Name"].drop_nulls().eq("VAT 20%").all()
    assert (incl["gross_sales"] < incl["_gross"]).all()
    assert (incl["shipping"] <= incl["Shipping"]).all()
    assert (excl["Total"] == excl["Subtotal"] + excl["Shipping"] + excl["Taxes"]).all()
    assert (excl["gross_sales"] == excl["_gross"]).all()
    assert (excl["discounts"] == excl["Discount Amount"]).all()
    assert (excl["shipping"] == excl["Shipping"]).all()
    sub = excl["_gross"] - excl["Discount Amount"] + excl["_tips"] + excl["_gift"]
    assert (excl["Subtotal"] == sub).all()


def test_money_features_are_present(truth: pl.DataFrame, stats: dict) -> None:
    real = truth.filter(~pl.col("is_test"))
    live = real.filter(~pl.col("is_cancelled"))
    assert 0.03 <= real["taxes_included"].mean() <= 0.15
    assert stats["tax_inclusive_order_share"] == pytest.approx(
        real["taxes_included"].mean(), abs=1e-4
    )
    partial = live.filter((pl.col("refunded") > 0) & (pl.col("refunded") < pl.col("total")))
    assert partial.height > 0 and (partial["refunded_shipping"] == 0).all()
    assert (partial["returns"] > 0).all()
    full = live.filter((pl.col("refunded") > 0) & (pl.col("refunded") == pl.col("total")))
    assert full.filter(pl.col("refunded_shipping") > 0).height > 0
    assert full.filter(pl.col("taxes_included") & (pl.col("refunded") > 0)).height >= 0
    assert (full["net_sales"] == 0).all()
    assert live.filter(pl.col("taxes_included") & (pl.col("refunded") > 0)).height > 0
    assert 0.01 <= (real["tips"] > 0).mean() <= 0.06
    assert 0.002 <= (real["gift_card_sales"] > 0).mean() <= 0.03
    assert stats["orders_one_unit_of_a_multi_unit_line_returned"] > 0
    assert stats["orders_two_of_three_lines_returned"] > 0


def test_partial_refunds_split_exactly_by_the_rate(
    orders: pl.DataFrame, truth: pl.DataFrame
) -> None:
    """A reader that knows the rate (Tax 1 Name) splits a partial refund into goods and tax
    exactly: exclusive goods = round(refund / (1 + rate)); inclusive tax = round(refund x
    rate / (1 + rate))."""
    first = orders.filter(pl.col("Subtotal").is_not_null()).select("Name", "Tax 1 Name")
    partial = truth.filter(
        ~pl.col("is_cancelled") & (pl.col("refunded") > 0) & (pl.col("refunded") < pl.col("total"))
    ).join(first, left_on="order_name", right_on="Name")
    checked = 0
    for row in partial.iter_rows(named=True):
        name = row["Tax 1 Name"] or "0%"
        rate = decimal.Decimal(name.rsplit(" ", 1)[-1].rstrip("%")) / 100
        refund = row["refunded"]
        half = decimal.ROUND_HALF_UP
        if row["taxes_included"]:
            tax = (refund * rate / (1 + rate)).quantize(decimal.Decimal("0.01"), half)
            assert row["refunded_taxes"] == tax, row
            assert row["returns"] == refund - tax, row
        else:
            goods = (refund / (1 + rate)).quantize(decimal.Decimal("0.01"), half)
            assert row["returns"] == goods, row
            assert row["refunded_taxes"] == refund - goods, row
        checked += 1
    assert checked > 0


def test_decimal_comma_meta_file(store: DemoSummary, stats: dict) -> None:
    comma = stats["decimal_comma_file"]
    path = store.landing_dir / comma["file"]
    raw = path.read_bytes()
    assert b"\r\n" in raw and raw.split(b"\r\n")[0].count(b";") == 16
    frame = pl.read_csv(path, separator=";", infer_schema=False)
    assert frame.height == comma["rows"]
    spend = frame[comma["spend_column"]]
    assert spend.str.contains(r"^\d{1,3}(\.\d{3})*,\d\d$").all()
    total = sum(decimal.Decimal(v.replace(".", "").replace(",", ".")) for v in spend)
    assert total == decimal.Decimal(comma["spend_total"])
    assert frame["Frequency"].str.contains(r"^\d+,\d\d$").all()
    # Every other Meta file keeps the vendor's commas and decimal points.
    others = [p for p in (store.landing_dir / "meta_ads").glob("*.csv") if p != path]
    assert others and all(b";" not in p.read_bytes().split(b"\n")[0] for p in others)


def test_pasted_duplicate_rows(store: DemoSummary, stats: dict, truth: pl.DataFrame) -> None:
    dup = stats["duplicated_order_rows"]
    n = dup["repeated_rows"]
    assert n >= 2
    text = (store.landing_dir / dup["file"]).read_text(encoding="utf-8-sig")
    records = [tuple(r) for r in csv.reader(io.StringIO(text, newline="")) if r]
    rows = [i for i, r in enumerate(records) if r[0] == dup["order"]]
    assert len(rows) == 2 * n
    assert rows == list(range(rows[0], rows[0] + 2 * n))  # one block, right after itself
    assert records[rows[0] : rows[0] + n] == records[rows[0] + n : rows[0] + 2 * n]
    # No other row of the file is repeated.
    assert len(set(records)) == len(records) - n
    assert truth.filter(pl.col("order_name") == dup["order"]).height == 1


def test_whole_store_tax_inclusive(tmp_path: Path) -> None:
    generate_store(tmp_path, scale=SCALE, days=60, seed=3, taxes_included=True)
    truth = pl.read_parquet(tmp_path / "demo_truth" / "orders.parquet")
    real = truth.filter(~pl.col("is_test"))
    assert real["taxes_included"].all()
    live = real.filter(~pl.col("is_cancelled"))
    lhs = (
        pl.col("net_sales")
        + pl.col("shipping")
        - pl.col("refunded_shipping")
        + pl.col("taxes")
        - pl.col("refunded_taxes")
        + pl.col("tips")
        + pl.col("gift_card_sales")
    )
    assert live.filter(lhs != pl.col("total") - pl.col("refunded")).height == 0
    stats = json.loads((tmp_path / "demo_truth" / "summary.json").read_text())
    assert stats["parameters"]["taxes_included"] is True
    assert stats["stats"]["taxes_included"] == "all"


def test_creatives_rotate_in_the_ad_exports(store: DemoSummary) -> None:
    truth = pl.read_csv(store.truth_dir / "creative_fatigue.csv", try_parse_dates=True,
                        schema_overrides={"retired": pl.Date, "fatigue_onset": pl.Date})
    assert truth.columns == ["platform", "campaign_name", "ad_name", "launched", "retired",
                             "fatigued", "fatigue_onset"]
    assert set(truth["platform"]) == {"meta", "tiktok"}  # Google's export has no creative
    assert (truth["fatigued"] == truth["fatigue_onset"].is_not_null()).all()
    meta = pl.concat([pl.read_csv(p, separator=";" if ";" in p.read_text()[:200] else ",",
                                  infer_schema=False)
                      for p in (store.landing_dir / "meta_ads").glob("*.csv")])
    tiktok = pl.concat([pl.read_csv(p, infer_schema=False)
                        for p in (store.landing_dir / "tiktok_ads").glob("*.csv")])
    exported = pl.concat([
        meta.select(pl.lit("meta").alias("platform"), "Campaign name", "Ad name",
                    pl.col("Day").str.to_date()),
        tiktok.select(pl.lit("tiktok").alias("platform"), "Campaign name", "Ad name",
                      pl.col("By Day").str.to_date().alias("Day")),
    ])
    spans = exported.group_by("platform", "Campaign name", "Ad name").agg(
        pl.col("Day").min().alias("first"), pl.col("Day").max().alias("last"))
    key = {"platform": "platform", "Campaign name": "campaign_name", "Ad name": "ad_name"}
    joined = spans.rename(key).join(truth, on=list(key.values()), how="full", coalesce=True)
    assert joined.height == truth.height == spans.height  # every exported ad is in the key
    assert (joined["first"] == joined["launched"]).all()
    assert (joined["last"] == joined["retired"].fill_null(store.end_date)).all()
    # 90 days outlive any creative (at most 12 weeks): each always-on campaign has a successor
    per_campaign = truth.group_by("platform", "campaign_name").len()
    always_on = per_campaign.filter(~pl.col("campaign_name").str.starts_with("BFCM"))
    assert (always_on["len"] >= 2).all()


def test_planted_fatigue_changes_only_the_clicks_of_worn_out_creatives() -> None:
    import numpy as np

    from orchestration.demo.creatives import rotate_creatives
    from orchestration.demo.marketing import CAMPAIGNS, AdRows

    days = np.arange(20_000, 20_400)
    n, k = days.size, len(CAMPAIGNS)
    ads = AdRows(campaign=np.repeat(np.arange(k), n), day=np.tile(days, k),
                 spend=np.full(n * k, 50_000), impressions=np.full(n * k, 10_000),
                 reach=np.full(n * k, 7_000), clicks=np.full(n * k, 100),
                 conversions=np.full(n * k, 10.0), value=np.full(n * k, 60_000))
    out = rotate_creatives(np.random.default_rng(3), ads, last_day=int(days[-1]))
    rows, truth = out.rows, out.truth
    assert (rows.spend == ads.spend).all() and (rows.impressions == ads.impressions).all()
    google = np.array([CAMPAIGNS[i].platform == 1 for i in ads.campaign])
    assert (out.ad_name[google] == "").all() and (out.ad_name[~google] != "").all()
    assert 0.15 < truth["fatigued"].mean() < 0.5
    base = dt.date(1970, 1, 1)
    for creative in truth.iter_rows(named=True):
        mine = out.ad_name == creative["ad_name"]
        mine &= np.array([CAMPAIGNS[i].name == creative["campaign_name"] for i in ads.campaign])
        day = rows.day[mine]
        frequency = rows.impressions[mine] / rows.reach[mine]
        if not creative["fatigued"]:
            assert (rows.clicks[mine] == ads.clicks[mine]).all(), creative["ad_name"]
            continue
        onset = (creative["fatigue_onset"] - base).days
        before, late = day < onset, day >= onset + 12
        assert rows.clicks[mine][before].sum() == ads.clicks[mine][before].sum()
        assert rows.clicks[mine][late].mean() < 0.8 * 100, creative["ad_name"]
        assert frequency[late].mean() > 1.3 * frequency[before].mean(), creative["ad_name"]
        assert rows.conversions[mine][late].mean() < 10  # conversions follow the clicks
