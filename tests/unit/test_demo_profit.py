"""The demo store's profit files (Shopify Payments transactions, ShipStation shipments,
dated products exports) and the profit answer key, read back from a tiny store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml

from orchestration.demo import DemoSummary, generate_store
from orchestration.demo.truth import PROFIT_COLUMNS

SCALE, DAYS, SEED = 0.03, 120, 7
CENT = Decimal("0.01")
PAYMENTS_HEADER = (
    "Transaction Date,Type,Order,Card Brand,Card Source,Payout Status,Payout Date,Payout ID,"
    "Available On,Amount,Fee,Net,Checkout,Payment Method Name,Presentment Amount,"
    "Presentment Currency,Currency"
)
SHIPMENTS_HEADER = (
    "Shipment ID,Order Number,Create Date,Ship Date,Carrier,Service,Package,Weight,"
    "Weight Units,Shipment Cost,Insurance Cost,Tracking Number,Is Return Label,Voided,Void Date"
)


def _cents(col: str) -> pl.Expr:
    """A money string (`12.50`, `$12.50`, `-$5.00`) as integer cents."""
    text = pl.col(col).str.replace("$", "", literal=True)
    return (text.cast(pl.Decimal(18, 2)) * 100).cast(pl.Int64)


def _key_cents(col: str) -> pl.Expr:
    return (pl.col(col) * 100).cast(pl.Int64)


def _read(paths: list[Path]) -> pl.DataFrame:
    return pl.concat(
        [
            pl.read_csv(p, infer_schema=False).with_columns(pl.lit(p.name).alias("_file"))
            for p in paths
        ]
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_store(tmp_path_factory.mktemp("profit"), scale=SCALE, days=DAYS, seed=SEED)


@pytest.fixture(scope="module")
def key(store: DemoSummary) -> dict:
    return json.loads((store.truth_dir / "profit.json").read_text())


@pytest.fixture(scope="module")
def truth(store: DemoSummary) -> pl.DataFrame:
    return pl.read_parquet(store.truth_dir / "orders.parquet")


@pytest.fixture(scope="module")
def orders(store: DemoSummary) -> pl.DataFrame:
    """Order lines, each order from the newest orders export that has it (the block of
    rows pasted twice counted once)."""
    stats = json.loads((store.truth_dir / "summary.json").read_text())["stats"]
    dup = stats["duplicated_order_rows"]
    frames = []
    for k, f in enumerate(sorted((store.landing_dir / "shopify/orders").glob("*.csv"))):
        frame = pl.read_csv(f, infer_schema=False).with_columns(pl.lit(k).alias("_k"))
        if f.relative_to(store.landing_dir).as_posix() == dup["file"]:
            frame = frame.filter(
                (pl.col("Name") != dup["order"]) | pl.struct(pl.all()).is_first_distinct()
            )
        frames.append(frame)
    lines = pl.concat(frames).filter(pl.col("Name").is_not_null())
    return lines.filter(pl.col("_k") == pl.col("_k").max().over("Name"))


@pytest.fixture(scope="module")
def first_rows(orders: pl.DataFrame) -> pl.DataFrame:
    return orders.filter(pl.col("Subtotal").is_not_null())


@pytest.fixture(scope="module")
def transactions(store: DemoSummary) -> pl.DataFrame:
    return _read(sorted((store.landing_dir / "shopify/payouts").glob("*.csv")))


def _once(transactions: pl.DataFrame) -> pl.DataFrame:
    """Each transaction once: the files overlap, and the warehouse's key is (Transaction
    Date, Type, Order, Amount) with Amount read as money (file 2 writes `$`)."""
    keyed = transactions.with_columns(_cents("Amount").alias("_amount"))
    return keyed.unique(["Transaction Date", "Type", "Order", "_amount"], maintain_order=True)


@pytest.fixture(scope="module")
def labels(store: DemoSummary) -> pl.DataFrame:
    """Every label once (the pasted row dropped), Order Number with '#' for joining."""
    frame = _read(sorted((store.landing_dir / "shipping").glob("*.csv")))
    return frame.unique(maintain_order=True).with_columns(
        ("#" + pl.col("Order Number")).alias("order_name"),
        (_cents("Shipment Cost") + _cents("Insurance Cost")).alias("_cost"),
    )


def test_file_names_and_headers(store: DemoSummary, key: dict) -> None:
    payouts = sorted((store.landing_dir / "shopify/payouts").glob("*"))
    assert [p.name for p in payouts] == [
        "payment_transactions_export_1.csv",
        "payment_transactions_export_2.csv",
    ]
    shipping = sorted((store.landing_dir / "shipping").glob("*"))
    assert [p.name for p in shipping] == [
        "shipstation_shipments_2026-Q3.csv",
        "shipstation_shipments_2026-Q4.csv",
    ]
    products = sorted((store.landing_dir / "shopify/products").glob("*"))
    assert [p.name for p in products] == [
        f"products_export_{d}.csv" for d in key["product_snapshots"]
    ]
    assert key["product_snapshots"][0] == store.start_date.isoformat()
    assert key["product_snapshots"][-1] == store.end_date.isoformat()
    for p in payouts:
        assert p.read_text().split("\n")[0] == PAYMENTS_HEADER
    for p in shipping:
        assert p.read_text().split("\n")[0] == SHIPMENTS_HEADER
    assert key["files_written"] == {"shopify/payouts": 2, "shipping": 2, "shopify/products": 4}
    assert sorted(key["files"]) == sorted(
        str(p.relative_to(store.landing_dir)) for p in payouts + shipping + products
    )


def test_transactions_add_up(transactions: pl.DataFrame, truth: pl.DataFrame) -> None:
    t = transactions.with_columns(
        _cents("Amount").alias("amount"), _cents("Fee").alias("fee"), _cents("Net").alias("net")
    )
    assert (t["amount"] - t["fee"] == t["net"]).all()
    # File 2 writes Amount, Fee and Net with a dollar sign; file 1 does not.
    two = t.filter(pl.col("_file").str.ends_with("_2.csv"))
    assert two["Amount"].str.contains(r"^-?\$\d+\.\d\d$").all()
    assert (
        t.filter(pl.col("_file").str.ends_with("_1.csv"))["Amount"]
        .str.contains(r"^-?\d+\.\d\d$")
        .all()
    )
    assert t["Transaction Date"].str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d -0[45]00$").all()
    # Refunds: negative, no fee. Charges: 2.9 % + 30 cents, 3.9 % + 30 cents on
    # tax-inclusive (international) orders.
    refunds = t.filter(pl.col("Type") == "refund")
    assert refunds.height > 0 and (refunds["amount"] < 0).all() and (refunds["fee"] == 0).all()
    charges = t.filter(pl.col("Type") == "charge").join(
        truth.select("order_name", "taxes_included"), left_on="Order", right_on="order_name"
    )
    assert set(t["Type"]) == {"charge", "refund"}
    assert charges["taxes_included"].any()
    for row in charges.iter_rows(named=True):
        rate = Decimal("0.039") if row["taxes_included"] else Decimal("0.029")
        fee = (Decimal(row["amount"]) / 100 * rate + Decimal("0.30")).quantize(CENT, ROUND_HALF_UP)
        assert row["fee"] == int(fee * 100), row
    # The warehouse's natural key is unique within a file.
    natural = ["_file", "Transaction Date", "Type", "Order", "Amount"]
    assert t.select(natural).is_unique().all()


def test_payouts(transactions: pl.DataFrame, store: DemoSummary) -> None:
    t = transactions.with_columns(
        pl.col("Transaction Date").str.slice(0, 10).str.to_date().alias("day"),
        pl.col("Available On").str.to_date().alias("available"),
    )
    assert (t["available"] == t["day"] + dt.timedelta(days=2)).all()
    paid, pending = (
        t.filter(pl.col("Payout Status") == "paid"),
        t.filter(pl.col("Payout Status") == "pending"),
    )
    assert paid.height > 0 and pending.height > 0
    assert pending["Payout Date"].is_null().all() and pending["Payout ID"].is_null().all()
    assert (paid["Payout Date"] == paid["Available On"]).all()
    day_number = (paid["available"] - dt.date(1970, 1, 1)).dt.total_days()
    assert (paid["Payout ID"].cast(pl.Int64) == 81_000_000_000 + day_number).all()
    # Each file's last two days are still pending; earlier days are paid.
    for name, part in t.group_by("_file"):
        last = part["day"].max()
        assert (
            part.filter(pl.col("day") >= last - dt.timedelta(days=1))["Payout Status"] == "pending"
        ).all(), name
        assert (
            part.filter(pl.col("day") < last - dt.timedelta(days=1))["Payout Status"] == "paid"
        ).all(), name
    # The ranges overlap, and together cover the window.
    one = t.filter(pl.col("_file").str.ends_with("_1.csv"))["day"]
    two = t.filter(pl.col("_file").str.ends_with("_2.csv"))["day"]
    assert one.min() == store.start_date and two.max() == store.end_date
    assert two.min() < one.max()


def test_charges_and_refunds_match_the_orders_export(
    transactions: pl.DataFrame, first_rows: pl.DataFrame
) -> None:
    seen = _once(transactions)
    per_order = seen.group_by("Order").agg(
        _cents("Amount").filter(pl.col("Type") == "charge").sum().alias("charged"),
        (-_cents("Amount")).filter(pl.col("Type") == "refund").sum().alias("refunds"),
        (pl.col("Type") == "charge").sum().alias("n_charges"),
    )
    o = first_rows.select(
        "Name",
        "Payment Method",
        "Financial Status",
        "Tags",
        _cents("Total").alias("total"),
        _cents("Refunded Amount").alias("refunded"),
    ).join(per_order, left_on="Name", right_on="Order", how="left")
    # Every order paid with Shopify Payments, not a test and not voided, has one charge
    # for its Total; no other order has any transaction.
    charged = (
        (pl.col("Payment Method") == "Shopify Payments")
        & ~pl.col("Tags").fill_null("").str.contains("test")
        & ~pl.col("Financial Status").is_in(["voided", "authorized"])
    )
    mine = o.filter(charged)
    assert mine.height > 0
    assert (mine["n_charges"] == 1).all() and (mine["charged"] == mine["total"]).all()
    assert o.filter(~charged)["n_charges"].is_null().all()
    assert set(per_order["Order"]) <= set(mine["Name"])
    # A refund in the files is one the newest orders export shows, for its amount.
    refunded = mine.filter(pl.col("refunds") > 0)
    assert refunded.height > 0
    assert (refunded["refunds"] == refunded["refunded"]).all()


def test_payment_fees_in_the_answer_key(
    transactions: pl.DataFrame, first_rows: pl.DataFrame, truth: pl.DataFrame, key: dict
) -> None:
    fees = _once(transactions).group_by("Order").agg(_cents("Fee").sum().alias("fees"))
    j = (
        truth.select("order_name", _key_cents("payment_fees").alias("key"), "total", "is_test")
        .join(
            first_rows.select("Name", "Payment Method", "Financial Status"),
            left_on="order_name",
            right_on="Name",
        )
        .join(fees, left_on="order_name", right_on="Order", how="left")
    )
    sp = j.filter(pl.col("Payment Method") == "Shopify Payments")
    assert (sp["key"] == sp["fees"].fill_null(0)).all()
    rates = key["settings"]["payment_fees"]
    assert set(rates) == {"PayPal Express Checkout", "Afterpay"}
    for gateway, rate in rates.items():
        rows = j.filter(pl.col("Payment Method") == gateway)
        assert rows.height > 0, gateway
        for row in rows.iter_rows(named=True):
            charged = row["Financial Status"] not in ("voided", "authorized")
            fee = row["total"] * Decimal(str(rate["percent"])) / 100 + Decimal(str(rate["fixed"]))
            expected = int(fee.quantize(CENT, ROUND_HALF_UP) * 100) if charged else 0
            assert row["key"] == expected, row
    other = j.filter(~pl.col("Payment Method").is_in(["Shopify Payments", *rates]))
    assert other.height > 0 and (other["key"] == 0).all()


def test_labels(labels: pl.DataFrame, store: DemoSummary, key: dict) -> None:
    assert labels["Shipment ID"].is_unique().all()
    assert labels["Tracking Number"].is_unique().all()
    assert labels["Tracking Number"].str.contains(r"^(\d{22}|1Z[0-9A-Z]{16})$").all()
    assert (labels["Weight Units"] == "ounces").all() and (labels["Package"] == "Package").all()
    assert labels["Create Date"].str.contains(r"^\d\d/\d\d/\d{4} \d\d:\d\d$").all()
    assert (labels["Ship Date"] == labels["Create Date"].str.slice(0, 10)).all()
    ship = labels["Ship Date"].str.to_date("%m/%d/%Y")
    assert ship.min() >= store.start_date and ship.max() <= store.end_date
    for col in ("Is Return Label", "Voided"):
        assert set(labels[col]) == {"true", "false"}, col
    services = set(zip(labels["Carrier"], labels["Service"]))
    assert services == {
        ("USPS", "USPS Ground Advantage"),
        ("UPS", "UPS 2nd Day Air"),
        ("USPS", "USPS Priority Mail International"),
    }
    returns = labels.filter(pl.col("Is Return Label") == "true")
    assert (returns["Service"] == "USPS Ground Advantage").all()
    assert returns["_cost"].is_between(600, 900).all()
    # A voided label has a Void Date and a replacement for the same order after it.
    voided = labels.filter(pl.col("Voided") == "true")
    assert voided.height > 0 and voided["Void Date"].is_not_null().all()
    assert labels.filter(pl.col("Voided") == "false")["Void Date"].is_null().all()
    for row in voided.iter_rows(named=True):
        again = labels.filter(
            (pl.col("Order Number") == row["Order Number"])
            & (pl.col("Voided") == "false")
            & (pl.col("Is Return Label") == "false")
        )
        assert again.height >= 1, row
    # Labels of no order are the three manual wholesale shipments.
    assert key["labels_without_order"] == ["WS-1042", "WS-1057", "WS-1063"]
    no_order = labels.filter(~pl.col("Order Number").str.contains(r"^\d+$"))
    assert no_order["Order Number"].to_list() == key["labels_without_order"]


def test_one_row_pasted_twice(store: DemoSummary, key: dict) -> None:
    dup = key["duplicated_shipment_row"]
    lines = [
        line
        for p in sorted((store.landing_dir / "shipping").glob("*.csv"))
        for line in p.read_text().splitlines()[1:]
    ]
    repeated = [line for line in set(lines) if lines.count(line) > 1]
    assert len(repeated) == 1 and repeated[0].startswith(dup["shipment_id"] + ",")
    text = (store.landing_dir / dup["file"]).read_text()
    assert repeated[0] + "\n" + repeated[0] + "\n" in text


def test_shipped_orders_and_shipping_cost(
    labels: pl.DataFrame, first_rows: pl.DataFrame, truth: pl.DataFrame, key: dict
) -> None:
    per_order = labels.group_by("order_name").agg(
        pl.col("_cost").filter(pl.col("Voided") == "false").sum().alias("cost"),
        (pl.col("Is Return Label") == "false").sum().alias("outbound"),
        (pl.col("Is Return Label") == "true").sum().alias("return_labels"),
    )
    j = (
        truth.select(
            "order_name",
            "returns",
            "is_cancelled",
            "is_test",
            _key_cents("shipping_cost").alias("shipping_cost"),
            _key_cents("fulfilment_cost").alias("fulfilment_cost"),
        )
        .join(
            first_rows.select("Name", "Fulfillment Status", "Source"),
            left_on="order_name",
            right_on="Name",
        )
        .join(per_order, on="order_name", how="left")
        .with_columns(pl.col("outbound", "return_labels", "cost").fill_null(0))
    )
    shipped = (
        pl.col("Fulfillment Status").is_in(["fulfilled", "partial"])
        & (pl.col("Source") != "pos")
        & ~pl.col("is_test")
        & ~pl.col("is_cancelled")
    )
    without = j.filter(pl.col("shipping_cost").is_null())
    assert sorted(without["order_name"]) == sorted(key["orders_shipped_without_label"])
    assert without.height >= 2
    assert without.select(shipped).to_series().all() and (without["outbound"] == 0).all()
    # Shipped orders get an outbound label (but the ones shipped without a label); no
    # other order does. Fulfilment costs per shipped order, labelled or not.
    assert (j.filter(shipped & pl.col("shipping_cost").is_not_null())["outbound"] >= 1).all()
    assert (j.filter(~shipped)["outbound"] == 0).all()
    assert (j.filter(shipped)["fulfilment_cost"] > 0).all()
    assert (j.filter(~shipped)["fulfilment_cost"] == 0).all()
    # Exactly the orders whose goods came back (not cancelled) have one return label.
    came_back = (pl.col("returns") > 0) & ~pl.col("is_cancelled")
    assert j.filter(came_back).height > 0
    assert (j.filter(came_back)["return_labels"] == 1).all()
    assert (j.filter(~came_back)["return_labels"] == 0).all()
    # The answer key's shipping cost is the non-voided labels' costs, returns included.
    known = j.filter(pl.col("shipping_cost").is_not_null())
    assert (known["shipping_cost"] == known["cost"]).all()
    assert key["labels"]["split_orders"] > 0 and key["labels"]["voided"] > 0


def test_products_snapshots(store: DemoSummary, key: dict) -> None:
    paths = sorted((store.landing_dir / "shopify/products").glob("*.csv"))
    frames = [pl.read_csv(p, infer_schema=False) for p in paths]
    rest = [c for c in frames[0].columns if c != "Cost per item"]
    for f in frames[1:]:
        assert f.columns == frames[0].columns
        assert f.select(rest).equals(frames[0].select(rest))
    assert not frames[0]["Cost per item"].equals(frames[-1]["Cost per item"])
    assert frames[-2]["Cost per item"].equals(frames[-1]["Cost per item"])
    suppliers = pl.read_csv(store.landing_dir / "purchasing/sku_suppliers.csv", infer_schema=False)
    last = suppliers.join(frames[-1], left_on="sku", right_on="Variant SKU")
    assert last.height == suppliers.height
    assert (last["unit_cost"] == last["Cost per item"]).all()
    # Each change day, the named suppliers' SKUs rise by their percentage (to the cent).
    by_day = dict(zip(key["product_snapshots"], frames))
    days = key["product_snapshots"]
    for change in key["cost_changes"]:
        after = by_day[change["date"]]
        before = by_day[days[days.index(change["date"]) - 1]]
        skus = suppliers.filter(pl.col("supplier") == change["supplier"])["sku"]
        pair = (
            before.select("Variant SKU", _cents("Cost per item").alias("old"))
            .join(
                after.select("Variant SKU", _cents("Cost per item").alias("new")), on="Variant SKU"
            )
            .filter(pl.col("Variant SKU").is_in(skus))
        )
        assert pair.height > 0
        ratio = pair["new"] / pair["old"]
        assert ((ratio - (1 + change["percent"] / 100)).abs() < 0.02).all(), change
        assert 4 <= change["percent"] <= 12


def test_cogs_uses_the_cost_of_the_order_date(
    store: DemoSummary, orders: pl.DataFrame, truth: pl.DataFrame, key: dict
) -> None:
    """On orders with nothing refunded or cancelled, cogs = quantity x Cost per item of
    the newest products snapshot dated on or before the order's date."""
    snapshots = pl.concat(
        [
            pl.read_csv(
                store.landing_dir / f"shopify/products/products_export_{d}.csv", infer_schema=False
            )
            .select("Variant SKU", _cents("Cost per item").alias("cost"))
            .with_columns(pl.lit(d).str.to_date().alias("as_of"))
            for d in key["product_snapshots"]
        ]
    ).sort("as_of")
    lines = (
        orders.filter(pl.col("Lineitem requires shipping") == "true")
        .select(
            "Name",
            "Lineitem sku",
            pl.col("Lineitem quantity").cast(pl.Int64).alias("qty"),
            pl.col("Name").alias("_n"),
        )
        .join(truth.select("order_name", "order_date"), left_on="Name", right_on="order_name")
        .sort("order_date")
        .join_asof(
            snapshots,
            left_on="order_date",
            right_on="as_of",
            by_left="Lineitem sku",
            by_right="Variant SKU",
            check_sortedness=False,  # both sorted by date; polars cannot check within groups
        )
    )
    cogs = lines.group_by("Name").agg((pl.col("qty") * pl.col("cost")).sum().alias("expected"))
    clean = truth.filter((pl.col("refunded") == 0) & ~pl.col("is_cancelled")).join(
        cogs, left_on="order_name", right_on="Name"
    )
    assert clean.height > 0.8 * truth.height
    assert (clean.select(_key_cents("cogs")).to_series() == clean["expected"]).all()
    # Snapshots before the last change day give some orders an older cost.
    early = truth.filter(pl.col("order_date") < dt.date.fromisoformat(key["product_snapshots"][1]))
    assert early.height > 0


def test_margins(truth: pl.DataFrame) -> None:
    for c in PROFIT_COLUMNS:
        assert truth[c].dtype == pl.Decimal(18, 2), c
    assert (truth.filter(pl.col("is_cancelled"))["cogs"] == 0).all()
    assert (truth["contribution_margin_1"] == truth["net_sales"] - truth["cogs"]).all()
    cm2 = (
        pl.col("contribution_margin_1")
        + pl.col("shipping")
        - pl.col("refunded_shipping")
        - pl.col("shipping_cost")
        - pl.col("payment_fees")
        - pl.col("fulfilment_cost")
    )
    known = truth.filter(pl.col("shipping_cost").is_not_null())
    assert (known["contribution_margin_2"] == known.select(cm2).to_series()).all()
    assert truth.filter(pl.col("shipping_cost").is_null())["contribution_margin_2"].is_null().all()
    for c in ("cogs", "payment_fees", "fulfilment_cost"):
        assert truth[c].null_count() == 0 and (truth[c] >= 0).all(), c


def test_storeops_yml(store: DemoSummary, key: dict, tmp_path: Path) -> None:
    home = store.landing_dir.parent
    written = yaml.safe_load((home / "storeops.yml").read_text())
    assert written == {"profit": key["settings"]} and key["settings_source"] == "created"
    entries = key["settings"]["fulfilment_per_order"]
    assert [e["from"] for e in entries] == ["2026-07", "2026-10"]
    # A file with other settings gets the section added; a `profit:` of its own is kept
    # and is what the answer key uses.
    (tmp_path / "a").mkdir()
    (tmp_path / "a/storeops.yml").write_text("timezone: America/New_York\n")
    generate_store(tmp_path / "a", scale=SCALE, days=DAYS, seed=SEED)
    assert yaml.safe_load((tmp_path / "a/storeops.yml").read_text()) == {
        "timezone": "America/New_York",
        "profit": key["settings"],
    }
    mine = "profit:\n  payment_fees:\n    PayPal Express Checkout: {percent: 10, fixed: 1}\n"
    (tmp_path / "b").mkdir()
    (tmp_path / "b/storeops.yml").write_text(mine)
    generate_store(tmp_path / "b", scale=SCALE, days=DAYS, seed=SEED)
    assert (tmp_path / "b/storeops.yml").read_text() == mine
    other = json.loads((tmp_path / "b/demo_truth/profit.json").read_text())
    assert other["settings_source"] == "existing"
    assert other["settings"] == yaml.safe_load(mine)["profit"]
    t = pl.read_parquet(tmp_path / "b/demo_truth/orders.parquet")
    assert (t["fulfilment_cost"] == 0).all()
    paypal = t.join(
        pl.read_parquet(store.truth_dir / "orders.parquet").select("order_name", "payment_fees"),
        on="order_name",
    ).filter(pl.col("payment_fees") != pl.col("payment_fees_right"))
    assert (paypal["payment_fees"] == 0).any()  # Afterpay: no longer in the settings
    paypal = paypal.filter(pl.col("payment_fees") > 0)
    assert paypal.height > 0
    for total, fee in zip(paypal["total"], paypal["payment_fees"]):
        assert fee == (total * Decimal("0.1") + 1).quantize(CENT, ROUND_HALF_UP)


def test_insurance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Orders above $300 are rare in the demo store (none in a tiny one): with a $100
    threshold, the first outbound label of such orders (and a voided one before it) is
    insured for 1.5 % of the Total, at least $1.00, and the answer key counts it."""
    from orchestration.demo import shipments

    monkeypatch.setattr(shipments, "INSURED_ABOVE", 10_000)
    generate_store(tmp_path, scale=SCALE, days=DAYS, seed=SEED)
    truth = pl.read_parquet(tmp_path / "demo_truth/orders.parquet")
    labels = _read(sorted((tmp_path / "landing/shipping").glob("*.csv"))).unique(
        maintain_order=True
    )
    j = labels.with_columns(("#" + pl.col("Order Number")).alias("order_name")).join(
        truth.select("order_name", "total"), on="order_name"
    )
    first = j.filter(pl.col("Is Return Label") == "false").filter(
        pl.col("Shipment ID") == pl.col("Shipment ID").min().over("order_name")
    )
    big = first.filter(pl.col("total") > 100)
    assert big.height > 0
    for total, insurance in zip(big["total"], big["Insurance Cost"]):
        expected = max(Decimal("1.00"), (total * Decimal("0.015")).quantize(CENT, ROUND_HALF_UP))
        assert Decimal(insurance) == expected
    assert (first.filter(pl.col("total") <= 100)["Insurance Cost"] == "0.00").all()
    assert (j.filter(pl.col("Is Return Label") == "true")["Insurance Cost"] == "0.00").all()
    costs = (
        j.filter(pl.col("Voided") == "false")
        .group_by("order_name")
        .agg((_cents("Shipment Cost") + _cents("Insurance Cost")).sum().alias("cost"))
    )
    check = truth.join(costs, on="order_name").filter(pl.col("total") > 100)
    assert (check.select(_key_cents("shipping_cost")).to_series() == check["cost"]).all()


def test_same_seed_same_bytes(store: DemoSummary, tmp_path: Path) -> None:
    generate_store(tmp_path, scale=SCALE, days=DAYS, seed=SEED)

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    mine = digest(tmp_path)
    assert mine == digest(store.landing_dir.parent)
    assert any(k.startswith("landing/shipping/") for k in mine)
