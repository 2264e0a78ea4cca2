"""Stores that do not have every source yet still build, with nulls where data is missing."""

import shutil

import duckdb
import pytest

from orchestration.settings import Settings

pytestmark = pytest.mark.integration


def build(tmp_path, keep: set[str] | None = None, drop: set[str] | None = None):
    from orchestration.demo import generate_store
    from orchestration.pipeline import execute_pipeline

    home = tmp_path / "home"
    generate_store(home, scale=0.02, days=60, seed=9)
    landing = home / "landing"
    for folder in sorted(p for p in landing.rglob("*") if p.is_dir() and any(p.iterdir())):
        rel = folder.relative_to(landing).as_posix()
        if (keep is not None and rel not in keep and not any(k.startswith(rel + "/") for k in keep)) \
                or (drop and rel in drop):
            shutil.rmtree(folder, ignore_errors=True)
    for f in list(landing.rglob("*.csv")):
        if drop and f.relative_to(landing).as_posix() in drop:
            f.unlink()
    settings = Settings(home=home, landing=landing)
    summary = execute_pipeline(settings)
    return settings, summary


def query(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_orders_export_only(tmp_path):
    settings, summary = build(tmp_path, keep={"shopify/orders"})
    assert summary.success and not summary.failed_checks, summary.failed_steps
    (customers,) = query(settings, "select count(*) from marts.dim_customers")[0]
    assert customers > 0
    row = query(settings, "select count(*), sum(orders), count(sessions), count(ad_spend), "
                          "count(tickets), count(conversion_rate) from marts.fct_daily_kpis")[0]
    days, orders, sessions, spend, tickets, conversion = row
    assert days > 0 and orders > 0
    # Missing sources are null, not zero.
    assert (sessions, spend, tickets, conversion) == (0, 0, 0, 0)


def test_no_tiktok_no_gorgias_no_sessions(tmp_path):
    settings, summary = build(tmp_path, drop={"tiktok_ads", "gorgias", "analytics/sessions.csv"})
    assert summary.success and not summary.failed_checks, summary.failed_steps
    channels = {r[0] for r in query(settings, "select distinct channel from marts.fct_marketing_daily")}
    assert channels == {"meta", "google"}
    helpdesks = {r[0] for r in query(settings, "select distinct helpdesk from marts.fct_support_tickets")}
    assert helpdesks <= {"zendesk"}
    (with_conversion,) = query(settings, "select count(conversion_rate) from marts.fct_daily_kpis")[0]
    assert with_conversion == 0
    (with_spend,) = query(settings, "select count(ad_spend) from marts.fct_daily_kpis")[0]
    assert with_spend > 0
