"""Contribution margins of six orders worked out by hand, through the real loader and dbt:
a discounted order, a full refund with shipping and a return label, a customer paying in
EUR, a payout in another currency than the order's, a tax-inclusive (VAT) order paid by
PayPal, and an order shipped without a label. Then a fee planted wrong in the payments
export, which the payout reconciliation names by file and row.

The files are the vendors' formats (Shopify orders, products and Payments transactions
exports, ShipStation shipments), written here line by line so every figure below can be
checked with a pencil.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loader import ingest_landing
from orchestration.settings import ProfitSettings

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
TZ = "America/New_York"

ORDERS = """\
Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem requires shipping,Refunded Amount,Payment Method,Source,Tax 1 Name,Tax 1 Value
#1001,ann@example.com,paid,2026-02-10 10:00:00 -0500,fulfilled,2026-02-11 09:00:00 -0500,USD,72.00,5.00,5.76,82.76,SAVE10,8.00,Standard Shipping,2026-02-10 10:00:00 -0500,2,Mug,40.00,MUG-1,true,0.00,Shopify Payments,web,NY State Tax 8%,5.76
#1002,bob@example.com,refunded,2026-03-05 10:00:00 -0500,fulfilled,2026-03-06 09:00:00 -0500,USD,55.00,7.00,4.40,66.40,,0.00,Standard Shipping,2026-03-05 10:00:00 -0500,1,Mug,40.00,MUG-1,true,66.40,Shopify Payments,web,NY State Tax 8%,4.40
#1002,bob@example.com,,,,,,,,,,,,,2026-03-05 10:00:00 -0500,1,Tea,15.00,TEA-1,true,,,,,
#1003,cleo@example.com,paid,2026-03-12 10:00:00 -0400,fulfilled,2026-03-13 09:00:00 -0400,USD,45.00,9.00,0.00,54.00,,0.00,International Shipping,2026-03-12 10:00:00 -0400,1,Mug,45.00,MUG-1,true,0.00,Shopify Payments,web,,
#1004,dee@example.com,paid,2026-03-10 10:00:00 -0400,fulfilled,2026-03-11 09:00:00 -0400,USD,24.00,6.00,5.00,30.00,,0.00,Standard Shipping,2026-03-10 10:00:00 -0400,1,Tea,24.00,TEA-1,true,0.00,PayPal Express Checkout,web,GB VAT 20%,5.00
#1005,eve@example.com,paid,2026-03-14 10:00:00 -0400,fulfilled,2026-03-15 09:00:00 -0400,USD,20.00,0.00,1.60,21.60,,0.00,Free Shipping,2026-03-14 10:00:00 -0400,1,Tea,20.00,TEA-1,true,0.00,Shopify Payments,web,NY State Tax 8%,1.60
#1006,fay@example.com,paid,2026-03-16 10:00:00 -0400,fulfilled,2026-03-17 09:00:00 -0400,USD,20.00,0.00,0.00,20.00,,0.00,Free Shipping,2026-03-16 10:00:00 -0400,1,Tea,20.00,TEA-1,true,0.00,Shopify Payments,web,,
"""

PRODUCTS_HEADER = "Handle,Title,Variant SKU,Variant Price,Cost per item,Status\n"
PRODUCTS_JAN = PRODUCTS_HEADER + "mug,Mug,MUG-1,40.00,10.00,active\ntea,Tea,TEA-1,20.00,4.00,active\n"
# The mug's supplier raised its price on 1 March: orders from then on cost 12.00 a mug.
PRODUCTS_MAR = PRODUCTS_HEADER + "mug,Mug,MUG-1,40.00,12.00,active\ntea,Tea,TEA-1,20.00,4.00,active\n"

TRANSACTIONS_HEADER = ("Transaction Date,Type,Order,Card Brand,Card Source,Payout Status,Payout Date,"
                       "Payout ID,Available On,Amount,Fee,Net,Checkout,Payment Method Name,"
                       "Presentment Amount,Presentment Currency,Currency\n")
TRANSACTIONS = [
    # 2.9% + 0.30 of 82.76 = 2.70
    "2026-02-10 10:00:05 -0500,charge,#1001,visa,online,paid,2026-02-12,81000000001,2026-02-12,82.76,2.70,80.06,111,visa,82.76,USD,USD",
    # 2.9% + 0.30 of 66.40 = 2.23; the refund gives the fee back: no
    "2026-03-05 10:00:05 -0500,charge,#1002,visa,online,paid,2026-03-09,81000000002,2026-03-09,66.40,2.23,64.17,112,visa,66.40,USD,USD",
    "2026-03-20 12:00:00 -0400,refund,#1002,visa,online,paid,2026-03-23,81000000003,2026-03-23,-66.40,0.00,-66.40,112,visa,-66.40,USD,USD",
    # The customer paid 50.00 EUR; the shop and the payout are in USD: the fee is in USD.
    "2026-03-12 10:00:05 -0400,charge,#1003,mastercard,online,paid,2026-03-16,81000000004,2026-03-16,$54.00,$2.41,$51.59,113,mastercard,50.00,EUR,USD",
    "2026-03-14 10:00:05 -0400,charge,#1005,visa,online,paid,2026-03-16,81000000004,2026-03-16,21.60,0.93,20.67,115,visa,21.60,USD,USD",
    # Paid out in CAD: 27.00 CAD for the order's 20.00 USD; the fee 1.08 CAD is 0.80 USD.
    "2026-03-16 10:00:05 -0400,charge,#1006,visa,online,paid,2026-03-18,81000000005,2026-03-18,27.00,1.08,25.92,116,visa,20.00,USD,CAD",
]

SHIPMENTS = """\
Shipment ID,Order Number,Create Date,Ship Date,Carrier,Service,Package,Weight,Weight Units,Shipment Cost,Insurance Cost,Tracking Number,Is Return Label,Voided,Void Date
5001,1001,02/11/2026 09:00,02/11/2026,USPS,USPS Ground Advantage,Package,32,ounces,6.40,0.00,9400100000000000000001,false,false,
5002,1002,03/06/2026 09:00,03/06/2026,USPS,USPS Ground Advantage,Package,40,ounces,8.10,0.00,9400100000000000000002,false,false,
5003,1002,03/18/2026 09:00,03/18/2026,USPS,USPS Ground Advantage,Package,40,ounces,6.50,0.00,9400100000000000000003,true,false,
5004,1003,03/13/2026 09:00,03/13/2026,USPS,USPS Priority Mail International,Package,24,ounces,14.10,1.20,9400100000000000000004,false,false,
5005,1004,03/11/2026 08:00,03/11/2026,UPS,UPS Ground,Package,12,ounces,9.99,0.00,1Z0000000000000005,false,true,03/11/2026 08:30
5006,1004,03/11/2026 09:00,03/11/2026,USPS,USPS Ground Advantage,Package,12,ounces,4.20,0.00,9400100000000000000006,false,false,
5007,1006,03/17/2026 09:00,03/17/2026,USPS,USPS Ground Advantage,Package,12,ounces,5.00,0.00,9400100000000000000007,false,false,
5008,WS-77,03/17/2026 11:00,03/17/2026,UPS,UPS Ground,Package,400,ounces,41.00,0.00,1Z0000000000000008,false,false,
"""

PROFIT = ProfitSettings.from_config({
    "fulfilment_per_order": [{"from": "2026-01", "packaging": 0.85, "pick_and_pack": 1.90}],
    "payment_fees": {"PayPal Express Checkout": {"percent": 3.49, "fixed": 0.49}},
})

# Worked out by hand (USD): net sales, COGS, CM1, net shipping revenue, labels, fees,
# fulfilment, CM2.
EXPECTED = {
    # 2 mugs at 40 less 10% = 72; 2 x 10.00 (the January cost: ordered before 1 March);
    # 52 + 5 - 6.40 - 2.70 - 2.75 = 45.15
    "#1001": ("72.00", "20.00", "52.00", "5.00", "6.40", "2.70", "2.75", "45.15"),
    # everything refunded, shipping too: no sales, no goods kept; the labels out and back
    # (8.10 + 6.50) and the fee stay: -14.60 - 2.23 - 2.75 = -19.58
    "#1002": ("0.00", "0.00", "0.00", "0.00", "14.60", "2.23", "2.75", "-19.58"),
    # 45 - 12.00 (the March cost) = 33; + 9 - (14.10 + 1.20 insurance) - 2.41 - 2.75 = 21.54
    "#1003": ("45.00", "12.00", "33.00", "9.00", "15.30", "2.41", "2.75", "21.54"),
    # VAT inside: goods 24 / 1.2 = 20, shipping 6 / 1.2 = 5; PayPal 3.49% + 0.49 of 30 =
    # 1.54; the voided UPS label costs nothing: 16 + 5 - 4.20 - 1.54 - 2.75 = 12.51
    "#1004": ("20.00", "4.00", "16.00", "5.00", "4.20", "1.54", "2.75", "12.51"),
    # shipped, but no label anywhere: its shipping cost is unknown, and so is CM2
    "#1005": ("20.00", "4.00", "16.00", "0.00", None, "0.93", "2.75", None),
    # 1.08 CAD x 20.00 / 27.00 = 0.80 USD: 16 - 5.00 - 0.80 - 2.75 = 7.45
    "#1006": ("20.00", "4.00", "16.00", "0.00", "5.00", "0.80", "2.75", "7.45"),
}
COLUMNS = ("net_sales", "cogs", "contribution_margin_1", "net_shipping_revenue", "shipping_cost",
           "payment_fees", "fulfilment_cost", "contribution_margin_2")


def _write(landing: Path, transactions: list[str]) -> None:
    for folder, name, text in (
            ("shopify/orders", "orders_export_1.csv", ORDERS),
            ("shopify/products", "products_export_2026-01-01.csv", PRODUCTS_JAN),
            ("shopify/products", "products_export_2026-03-01.csv", PRODUCTS_MAR),
            ("shopify/payouts", "payment_transactions_export_1.csv",
             TRANSACTIONS_HEADER + "\n".join(transactions) + "\n"),
            ("shipping", "shipstation_shipments_2026-Q1.csv", SHIPMENTS)):
        (landing / folder).mkdir(parents=True, exist_ok=True)
        (landing / folder / name).write_text(text)


def _dbt(command: list[str], warehouse: Path) -> subprocess.CompletedProcess:
    variables = {"warehouse_path": str(warehouse), "store_timezone": TZ,
                 "taxes_included": "auto", **PROFIT.dbt_vars()}
    target = warehouse.with_suffix(".target")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *command, "--vars", json.dumps(variables),
         "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT),
         "--target-path", str(target), "--log-path", str(target)],
        check=False, capture_output=True, text=True, cwd=PROJECT,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert done.returncode == 0, done.stdout[-4000:]
    return done


MODELS = ["--select", "+fct_order_profit", "+fct_payouts", "+fct_shipping_exceptions",
          "+fct_profit_monthly", "fct_order_line_profit"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("by_hand")
    landing, path = root / "landing", root / "warehouse.duckdb"
    _write(landing, TRANSACTIONS)
    with duckdb.connect(str(path)) as con:
        results = ingest_landing(con, landing, run_id="by-hand", timezone=TZ)
    assert sum(r.rows_quarantined for r in results) == 0
    _dbt(["run", *MODELS], path)
    return root


def _fetch(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_margin_is_the_one_worked_out_by_hand(warehouse):
    rows = _fetch(warehouse / "warehouse.duckdb",
                  f"select order_name, {', '.join(COLUMNS)} from marts.fct_order_profit")
    got = {r[0]: tuple(None if v is None else Decimal(v).quantize(Decimal("0.01")) for v in r[1:])
           for r in rows}
    expected = {k: tuple(None if v is None else Decimal(v) for v in vals)
                for k, vals in EXPECTED.items()}
    assert got == expected


def test_the_lines_share_their_order_and_add_up_to_it(warehouse):
    lines = _fetch(warehouse / "warehouse.duckdb", """
        select order_line_id, net_sales, cogs, contribution_margin_1, shipping_cost,
               contribution_margin_2
        from marts.fct_order_line_profit where order_name = '#1002' order by 1""")
    # #1002 was refunded whole: no sales kept, so the mug (40 of the 55 gross) carries
    # 40/55 of the labels (14.60) and of the fee (2.23) and fulfilment (2.75).
    assert [(r[0], *(None if v is None else Decimal(v).quantize(Decimal("0.01")) for v in r[1:]))
            for r in lines] == [
        ("#1002-1", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("10.62"),
         Decimal("-14.24")),
        ("#1002-2", Decimal("0.00"), Decimal("0.00"), Decimal("0.00"), Decimal("3.98"),
         Decimal("-5.34"))]
    (sums,) = _fetch(warehouse / "warehouse.duckdb", """
        select count(*) filter (where abs(l.cm2 - p.contribution_margin_2) >= 0.005
                                   or abs(l.cm1 - p.contribution_margin_1) >= 0.005)
        from (select order_name, sum(contribution_margin_2) as cm2,
                     sum(contribution_margin_1) as cm1
              from marts.fct_order_line_profit group by 1) as l
        join marts.fct_order_profit as p using (order_name)""")
    assert sums == (0,)


def test_what_is_missing_is_named(warehouse):
    path = warehouse / "warehouse.duckdb"
    assert _fetch(path, "select order_name, missing_costs from marts.fct_order_profit "
                        "where missing_costs is not null") == [("#1005", "shipping label")]
    assert sorted(_fetch(path, "select exception, reference from marts.fct_shipping_exceptions")) == [
        ("label_without_order", "WS-77"), ("shipped_without_label", "#1005")]
    bases = dict(_fetch(path, "select order_name, fee_basis from marts.fct_order_profit"))
    assert bases["#1004"] == "rate in storeops.yml"
    assert bases["#1006"] == "Shopify Payments transactions (converted at the transaction rate)"


def test_the_month_adds_up(warehouse):
    # March: #1002..#1006; CM2 leaves #1005 out (its label is unknown) and says so.
    (month,) = _fetch(warehouse / "warehouse.duckdb", """
        select sum(net_sales), sum(contribution_margin_1), sum(contribution_margin_2),
               sum(orders_missing_costs)
        from marts.fct_profit_monthly where profit_month = date '2026-03-01'""")
    assert tuple(Decimal(v).quantize(Decimal("0.01")) for v in month[:3]) == (
        Decimal("105.00"), Decimal("81.00"), Decimal("21.92"))
    assert month[3] == 1


def test_payouts_reconcile_and_a_planted_fee_error_is_caught(warehouse, tmp_path):
    path = warehouse / "warehouse.duckdb"
    payouts = _fetch(path, "select payout_id, currency_code, charges, fees, net, is_reconciled "
                           "from marts.fct_payouts order by payout_id")
    assert [(p[0], p[1], p[5]) for p in payouts] == [
        ("81000000001", "USD", True), ("81000000002", "USD", True), ("81000000003", "USD", True),
        ("81000000004", "USD", True), ("81000000005", "CAD", True)]

    # A fee of 3.70 where Shopify took 2.70, the Net left as exported: a row that does not
    # add up, in a later export of the same transactions.
    planted = list(TRANSACTIONS)
    planted[0] = planted[0].replace(",82.76,2.70,80.06,", ",82.76,3.70,80.06,")
    folder = warehouse / "landing" / "shopify" / "payouts"
    (folder / "payment_transactions_export_2.csv").write_text(
        TRANSACTIONS_HEADER + "\n".join(planted) + "\n")
    with duckdb.connect(str(path)) as con:
        ingest_landing(con, warehouse / "landing", run_id="planted", timezone=TZ,
                       tables=["shopify_payment_transactions"])
    # the payouts again and the reconciliation test, in one dbt call
    done = _dbt(["build", "--select", "fct_payouts", "assert_payouts_reconcile",
                 "--store-failures"], path)
    assert _fetch(path, "select is_reconciled, rows_net_differs from marts.fct_payouts "
                        "where payout_id = '81000000001'") == [(False, 1)]
    assert "WARN 1" in done.stdout, done.stdout[-2000:]
    failures = _fetch(path, "select identity, order_name, source_file, source_row, problem "
                            "from dbt_test__audit.assert_payouts_reconcile")
    # _source_row counts data rows (the header is not one), as everywhere in storeops
    assert failures == [("row", "#1001", "shopify/payouts/payment_transactions_export_2.csv", 1,
                         "Net 80.06 is not Amount 82.76 - Fee 3.70 (payout 81000000001)")]
