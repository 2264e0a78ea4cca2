"""Customers: churn scores, 12-month value, product repurchase timing and the contact lists.

The assets read the marts, call `models.churn` / `models.repurchase`, write
`analytics.churn_scores`, `analytics.product_repurchase`, the churn rows of
`analytics.model_evaluation`, and the lists under output/customers/<as_of>/ (hashed
customer ids only: the email stays in marts.dim_customers, joined in the warehouse view
`analytics.win_back_contacts` for whoever sends the emails), the audience files under
output/audiences/<as_of>/ (hashed identifiers for the ad platforms; plain emails only in
the Klaviyo lists of customers who accepted email marketing), and the next-product
suggestions (`analytics.next_product`, `analytics.product_complements`,
output/customers/<as_of>/next_product.csv) from `models.next_product`.
"""


from pathlib import Path

import dagster as dg
import polars as pl

from orchestration.defs.resources import StoreResource, WarehouseResource, query_frame
from orchestration.defs.shared import (
    DUCKDB_POOL,
    analytics_key,
    markdown_table,
    mart,
    run_as_of,
    write_evaluation,
    write_table,
)
from quality.warehouse import column_exists, table_exists

CUSTOMERS_GROUP = "customers"


def product_lines(con, as_of) -> pl.DataFrame:
    """Revenue product lines of known customers up to as_of: customer_id, order_date, sku,
    line_name (what the repurchase, list and next-product assets read)."""
    return query_frame(
        con, "select customer_id, order_date, sku, line_name from marts.fct_order_lines "
             "where is_revenue and line_kind = 'product' and customer_id is not null "
             "and order_date <= ?", [as_of])


def _evaluation_table(evaluation: pl.DataFrame, window: str) -> str:
    wanted = ("roc_auc", "precision_top_decile", "lift_top_decile", "calibration_error", "brier")
    rows = evaluation.filter((pl.col("window") == window) & (pl.col("metric").is_in(wanted)))
    if rows.is_empty():
        return "_not enough history for a held-out window_"
    table = rows.pivot(on="metric", index=["population", "model"], values="value").with_columns(
        pl.col(c).round(3) for c in wanted if c in rows["metric"].unique().to_list())
    return markdown_table(table)


@dg.asset(
    key=analytics_key("churn_scores"),
    group_name=CUSTOMERS_GROUP,
    deps=[mart("fct_orders"), mart("fct_support_tickets"), mart("fct_order_lines")],
    pool=DUCKDB_POOL,
    kinds={"scikitlearn", "duckdb"},
    description=(
        "Per customer: P(no order in the next 90 days), the date their rhythm says the next "
        "order is due, predicted 12-month net revenue (BG/NBD x Gamma-Gamma), segment, value "
        "tier and advocate flag. A learned model (gradient boosting, logistic, BG/NBD) is used "
        "only if it beats the better of recency and logistic RFM on a later validation window "
        "by a stated margin, else that calibrated baseline scores; every candidate is tested on "
        "the last 90 days it did not see; the evaluation (and the rule that fired, window "
        "'choice') goes to analytics.model_evaluation."
    ),
)
def churn_scores(context: dg.AssetExecutionContext,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    from models.churn import score_customers
    from models.warehouse import customer_inputs

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        orders, tickets, lines = customer_inputs(con, as_of)
    if orders.is_empty():
        context.log.warning("No orders yet: no churn scores.")
        with warehouse.connect() as con:
            con.execute("create schema if not exists analytics")
            con.execute("drop table if exists analytics.churn_scores")
        return dg.MaterializeResult(metadata={"customers": 0})
    result = score_customers(orders, as_of=as_of, tickets=tickets, order_lines=lines)
    with warehouse.connect() as con:
        write_table(con, "churn_scores", result.scores)
        write_evaluation(con, "churn_90d", as_of, result.evaluation, result.chosen_model)
    scores = result.scores
    segments = scores.group_by("segment").agg(
        pl.len().alias("customers"), pl.col("predicted_clv").sum().round(0).alias("predicted_12m_value"),
        pl.col("p_churn").mean().round(3).alias("mean_p_churn")).sort("customers", descending=True)
    test = result.evaluation.filter((pl.col("window") == "test") & (pl.col("population") == "all"))

    def test_metric(model: str, metric: str) -> float | None:
        hit = test.filter((pl.col("model") == model) & (pl.col("metric") == metric))["value"]
        return round(float(hit[0]), 4) if len(hit) else None

    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "customers": scores.height,
        "chosen_model": result.chosen_model,
        "choice_rule": result.choice.rule if result.choice else "",
        "choice_reason": result.choice.reason if result.choice else "",
        "test_roc_auc_chosen": test_metric(result.chosen_model, "roc_auc"),
        "test_roc_auc_recency": test_metric("recency", "roc_auc"),
        "test_roc_auc_logistic_rfm": test_metric("logistic_rfm", "roc_auc"),
        "test_roc_auc_bgnbd": test_metric("bgnbd", "roc_auc"),
        "test_window": dg.MetadataValue.md(_evaluation_table(result.evaluation, "test")),
        "validation_window": dg.MetadataValue.md(_evaluation_table(result.evaluation, "validation")),
        "calibration_test": dg.MetadataValue.md(markdown_table(result.reliability.with_columns(
            pl.col("predicted", "observed", "gap").round(3)))),
        "segments": dg.MetadataValue.md(markdown_table(segments)),
        "advocates": int(scores["is_advocate"].sum()),
        "bgnbd_params": dg.MetadataValue.json(
            vars(result.bgnbd_params) if result.bgnbd_params else {}),
        "seconds": dg.MetadataValue.json({k: round(v, 1) for k, v in result.timings.items()}),
    })


@dg.asset_check(asset=analytics_key("churn_scores"), blocking=False,
                description="On the held-out last window the chosen churn model is not worse "
                            "than the better of plain recency (days since the last order) and "
                            "logistic RFM by more than 0.005 ROC AUC; a warning if it is.")
def churn_model_beats_recency(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from models.churn import CHOICE_MARGIN

    with warehouse.connect(read_only=True) as con:
        # No orders (every row quarantined, a new store): no evaluation table yet.
        rows = [] if not table_exists(con, "analytics", "model_evaluation") else con.execute(
            """
            select model, is_chosen, value from analytics.model_evaluation
            where task = 'churn_90d' and "window" = 'test' and population = 'all'
              and metric = 'roc_auc'
              and as_of_date = (select max(as_of_date) from analytics.model_evaluation
                                where task = 'churn_90d')
            """).fetchall()
    chosen = next(((m, v) for m, c, v in rows if c), None)
    baselines = {m: v for m, _, v in rows if m in ("recency", "logistic_rfm")}
    if chosen is None or not baselines:
        return dg.AssetCheckResult(passed=True, severity=dg.AssetCheckSeverity.WARN,
                                   metadata={"note": "not enough history for a held-out window"})
    best = max(baselines.values())
    return dg.AssetCheckResult(
        passed=chosen[1] >= best - CHOICE_MARGIN, severity=dg.AssetCheckSeverity.WARN,
        metadata={"chosen_model": chosen[0], "roc_auc_chosen": round(chosen[1], 4),
                  **{f"roc_auc_{m}": round(v, 4) for m, v in sorted(baselines.items())},
                  "tolerance": CHOICE_MARGIN})


@dg.asset(
    key=analytics_key("product_repurchase"),
    group_name=CUSTOMERS_GROUP,
    deps=[mart("fct_order_lines")],
    pool=DUCKDB_POOL,
    kinds={"polars", "duckdb"},
    description="Per SKU: buyers, share who bought it again, median days to the second purchase.",
)
def product_repurchase(context: dg.AssetExecutionContext,
                       warehouse: WarehouseResource) -> dg.MaterializeResult:
    from models.repurchase import product_repurchase as timing

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        lines = product_lines(con, as_of)
    table = timing(lines, as_of=as_of).with_columns(pl.lit(as_of).alias("as_of_date"))
    with warehouse.connect() as con:
        write_table(con, "product_repurchase", table)
    known = table.filter(pl.col("median_days_to_repurchase").is_not_null())
    return dg.MaterializeResult(metadata={
        "skus": table.height,
        "skus_with_median": known.height,
        "median_of_medians_days": float(known["median_days_to_repurchase"].median() or 0),
        "fastest": dg.MetadataValue.md(markdown_table(
            known.sort("median_days_to_repurchase").head(5)
            .select("sku", "product", "repurchase_rate", "median_days_to_repurchase")
            .with_columns(pl.col("repurchase_rate").round(3))))
    })


@dg.asset(
    key=dg.AssetKey(["output", "customer_lists"]),
    group_name=CUSTOMERS_GROUP,
    deps=[analytics_key("churn_scores"), analytics_key("product_repurchase")],
    pool=DUCKDB_POOL,  # it also (re)creates the view analytics.win_back_contacts
    kinds={"csv"},
    description=(
        "output/customers/<as_of>/win_back.csv (high-value customers at risk, their last "
        "products and usual interval) and replenishment_reminders.csv (customers due to "
        "re-buy in the next 14 days). Hashed customer ids only; emails are joined in the "
        "warehouse view analytics.win_back_contacts."
    ),
)
def customer_lists(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   store: StoreResource) -> dg.MaterializeResult:
    from models.repurchase import replenishment_reminders, win_back_list

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        if not table_exists(con, "analytics", "churn_scores"):
            return dg.MaterializeResult(metadata={"win_back": 0, "reminders": 0})
        scores = query_frame(con, "select * from analytics.churn_scores")
        repurchase = query_frame(con, "select * from analytics.product_repurchase")
        lines = product_lines(con, as_of)
        margins = (query_frame(con, "select customer_id, margin_share from marts.dim_customers "
                                    "where orders > 0")
                   if column_exists(con, "marts", "dim_customers", "margin_share") else None)
        win_back = win_back_list(scores, lines, as_of=as_of, margins=margins)
        reminders = replenishment_reminders(lines, scores, repurchase, as_of=as_of)
        # The contact list for the email tool stays inside the warehouse.
        con.execute(
            """
            create or replace view analytics.win_back_contacts as
            select customers.email, customers.accepts_email_marketing, scores.*
            from analytics.churn_scores as scores
            inner join marts.dim_customers as customers using (customer_id)
            where scores.segment = 'high_value_at_risk'
            """)
    folder = Path(store.home) / "output" / "customers" / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    from dashboards.files import atomic_write

    atomic_write(folder / "win_back.csv", win_back.write_csv)
    atomic_write(folder / "replenishment_reminders.csv", reminders.write_csv)
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(folder)),
        "win_back": win_back.height,
        "value_at_risk": round(float(win_back["value_at_risk"].sum() or 0), 2),
        "reminders": reminders.height,
        "win_back_preview": dg.MetadataValue.md(markdown_table(win_back.head(5).drop("customer_id"))),
    })


AUDIENCES_README = """# Audience files, as of {as_of}

Customer segments in the upload formats of the ad platforms and the email tool, built by
storeops (`output/audiences` asset, `models.audiences`). `manifest.csv` lists every file
with its segment, platform, rows, match keys and how it was built.

- `meta_<segment>.csv`: Meta custom audience customer list (Ads Manager > Audiences >
  Custom audience > Customer list). Every identifier normalised as Meta documents and
  SHA-256 hashed; `lookalike_seed` carries a `value` column for a value-based audience.
- `google_<segment>.csv`: Google Ads Customer Match (Tools > Audience manager > Customer
  list > Upload hashed data). Email, Phone, First Name, Last Name hashed; Country and
  Zip in plain, as Google requires.
- `tiktok_<segment>_email.csv`, `tiktok_<segment>_phone.csv`: TikTok customer files
  (Audiences > Create audience > Customer file), one identifier type per file, hashed.
- `klaviyo_<segment>.csv`: a Klaviyo list import (Lists & segments > Import contacts).
  PLAIN email addresses and names, of customers who accepted email marketing only: keep
  this folder where only the data team reads it, and delete the file after the import.

A customer asking to be forgotten (`storeops forget`) is removed from every file here.
Phones and addresses without a country are read as {country}.
"""


@dg.asset(
    key=dg.AssetKey(["output", "audiences"]),
    group_name=CUSTOMERS_GROUP,
    deps=[analytics_key("churn_scores"), mart("dim_customers")],
    kinds={"csv"},
    description=(
        "output/audiences/<as_of>/: win-back, at-risk high-value, VIP, recent buyers to "
        "suppress and a lookalike seed (with predicted value) as Meta custom audience, Google "
        "Customer Match and TikTok customer files (identifiers normalised as each platform "
        "documents, then SHA-256), and Klaviyo list imports with the plain emails of customers "
        "who accepted email marketing only; manifest.csv and README.md describe every file."
    ),
)
def audience_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                   store: StoreResource) -> dg.MaterializeResult:
    from dashboards.files import atomic_write, atomic_write_text
    from models.audiences import audience_files as build_files
    from models.audiences import build_segments, manifest
    from models.warehouse import audience_contacts, store_country

    with warehouse.connect(read_only=True) as con:
        as_of = run_as_of(context, con)
        if not table_exists(con, "analytics", "churn_scores"):
            return dg.MaterializeResult(metadata={"files": 0, "note": "no churn scores yet"})
        scores = query_frame(con, "select * from analytics.churn_scores")
        members = sorted({c for frame in build_segments(scores, as_of=as_of).values()
                          for c in frame["customer_id"].to_list()})
        contacts = audience_contacts(con, members)
        country = store_country(con)
    files = build_files(scores, contacts, as_of=as_of, default_country=country)
    folder = Path(store.home) / "output" / "audiences" / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        atomic_write(folder / file.name, file.frame.write_csv)
    table = manifest(files)
    atomic_write(folder / "manifest.csv", table.write_csv)
    atomic_write_text(folder / "README.md", AUDIENCES_README.format(
        as_of=as_of.isoformat(), country=(country or "unknown (left out)").upper()))
    # Counts only: no identifier, hashed or plain, goes into the metadata.
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(folder)),
        "files": len(files),
        "default_country": country or "",
        "rows_per_file": dg.MetadataValue.json({f.name: f.frame.height for f in files}),
        "manifest": dg.MetadataValue.md(markdown_table(table.select(
            "file", "segment", "platform", "rows", "note"))),
    })



def _in_stock(con) -> tuple[pl.DataFrame | None, str]:
    """SKUs that may be suggested, and how they were chosen (for the metadata)."""
    if not table_exists(con, "marts", "fct_inventory_position"):
        return None, "no inventory mart: every SKU sold may be suggested"
    counted = con.execute("select count(*) filter (where has_inventory_snapshot) "
                          "from marts.fct_inventory_position").fetchall()[0][0]
    if not counted:
        return None, "no inventory snapshot loaded: every SKU sold may be suggested"
    stock = query_frame(con, "select sku from marts.fct_inventory_position "
                             "where has_inventory_snapshot and available > 0")
    return stock, f"{stock.height} SKUs with stock available as of the last snapshot"


@dg.asset(
    key=analytics_key("next_product"),
    group_name=CUSTOMERS_GROUP,
    deps=[mart("fct_order_lines"), mart("fct_inventory_position"),
          analytics_key("product_repurchase")],
    pool=DUCKDB_POOL,
    kinds={"polars", "duckdb", "csv"},
    description=(
        "Per customer the 3 products most likely in their next order (buy again, bought with "
        "a product they have, or a best seller; each scored as the probability it is in the "
        "next order, from the store's consecutive orders) and the day to send the suggestion; "
        "per product its best complements (association rules: support, confidence, lift) in "
        "analytics.product_complements. Only SKUs with stock available are suggested. Also "
        "output/customers/<as_of>/next_product.csv (hashed customer ids, no email). Hit rate "
        "against the best-seller and buy-again baselines: benchmarks/results/next_product.md."
    ),
)
def next_product(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 store: StoreResource) -> dg.MaterializeResult:
    from models.next_product import next_products, product_complements

    with warehouse.connect() as con:
        as_of = run_as_of(context, con)
        lines = product_lines(con, as_of).filter(pl.col("sku").is_not_null())
        repurchase = (query_frame(con, "select sku, median_days_to_repurchase "
                                       "from analytics.product_repurchase")
                      if table_exists(con, "analytics", "product_repurchase") else None)
        in_stock, stock_note = _in_stock(con)
    suggestions = next_products(lines, repurchase, in_stock, as_of=as_of, k=3)
    complements = product_complements(lines, as_of=as_of, top_k=5, in_stock=in_stock)
    as_of_column = pl.lit(as_of).alias("as_of_date")
    with warehouse.connect() as con:
        write_table(con, "next_product", suggestions.with_columns(as_of_column))
        write_table(con, "product_complements", complements.with_columns(as_of_column))
    folder = Path(store.home) / "output" / "customers" / as_of.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    from dashboards.files import atomic_write

    listed = suggestions.select("customer_id", "sku", "product", "rank", "send_on", "reason")
    atomic_write(folder / "next_product.csv", listed.write_csv)
    reasons = (suggestions.with_columns(
        pl.col("reason").str.replace(r"^bought with .*", "bought with a product they have"))
        .group_by("reason").agg(pl.len().alias("suggestions"))
        .sort("suggestions", descending=True))
    return dg.MaterializeResult(metadata={
        "as_of": as_of.isoformat(),
        "customers": suggestions["customer_id"].n_unique(),
        "suggestions": suggestions.height,
        "complement_rules": complements.height,
        "in_stock": stock_note,
        "path": dg.MetadataValue.path(str(folder / "next_product.csv")),
        "reasons": dg.MetadataValue.md(markdown_table(reasons)),
        # Products only: no customer id in the preview.
        "top_complements": dg.MetadataValue.md(markdown_table(
            complements.filter(pl.col("rank") == 1).sort("lift_lower", descending=True).head(5)
            .select("product", "complement_product", "co_buyers", "confidence", "lift"))),
        "most_suggested": dg.MetadataValue.md(markdown_table(
            suggestions.filter(pl.col("rank") == 1).group_by("product")
            .agg(pl.len().alias("customers")).sort("customers", "product", descending=[True, False])
            .head(5))),
    })


customer_assets = [churn_scores, product_repurchase, customer_lists, audience_files,
                   next_product]
customer_checks = [churn_model_beats_recency]
