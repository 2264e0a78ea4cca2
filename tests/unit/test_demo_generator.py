"""The demo store generator on a tiny store (scale 0.02, 90 days)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from orchestration.demo import DEFAULT_END_DATE, DemoSummary, generate_store

FORMATS = Path(__file__).parents[2].parent / "shared" / "formats"
SCALE, DAYS = 0.02, 90

# landing folder -> (file glob, format file, number of title lines before the header)
CSV_FORMATS = {
    "shopify/orders": ("orders_*.csv", "shopify_orders.csv", 0),
    "shopify/products": ("products_export.csv", "shopify_products.csv", 0),
    "shopify/inventory": ("inventory_2*.csv", "shopify_inventory.csv", 0),
    "shopify/customers": ("customers_export.csv", "shopify_customers.csv", 0),
    "meta_ads": ("meta_ads_*.csv", "meta_ads.csv", 0),
    "google_ads": ("google_ads_*.csv", "google_ads.csv", 2),
    "tiktok_ads": ("tiktok_ads_*.csv", "tiktok_ads.csv", 0),
    "zendesk": ("zendesk_tickets_*.csv", "zendesk_tickets.csv", 0),
}
FOLDERS = [*CSV_FORMATS, "gorgias", "purchasing", "analytics"]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _header(path: Path, skip: int = 0) -> str:
    text = path.read_bytes().decode("utf-8-sig")
    return text.split("\n")[skip]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def store(home: Path) -> DemoSummary:
    return generate_store(home, scale=SCALE, days=DAYS, seed=7)


@pytest.fixture(scope="module")
def orders(store: DemoSummary) -> pl.DataFrame:
    """All order lines, each order taken from the newest export that has it."""
    files = sorted((store.landing_dir / "shopify/orders").glob("*.csv"))
    frames = [
        pl.read_csv(f, infer_schema=False).with_columns(pl.lit(i).alias("_file"))
        for i, f in enumerate(files)
    ]
    # The trailing blank lines of an export read as empty rows.
    lines = pl.concat(frames).filter(pl.col("Name").is_not_null())
    return lines.filter(pl.col("_file") == pl.col("_file").max().over("Name"))


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
    assert truth == {"incidents.json", "README.md", "summary.json", "true_demand.parquet"}


@pytest.mark.skipif(not FORMATS.is_dir(), reason="shared/formats not available")
def test_headers_match_vendor_formats(store: DemoSummary) -> None:
    for folder, (pattern, fmt, skip) in CSV_FORMATS.items():
        expected = _header(FORMATS / fmt, skip)
        files = sorted((store.landing_dir / folder).glob(pattern))
        assert files, folder
        for f in files:
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
    assert later["Lineitem sku"].is_not_null().all()
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
