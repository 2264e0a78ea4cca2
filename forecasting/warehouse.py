"""The forecasts' demand history read from the warehouse marts (a DuckDB connection in, a
polars frame out): what the forecasting assets forecast and backtest and what
benchmarks/forecast.py measures on a demo home, from one query so they cannot drift apart."""

from __future__ import annotations

from datetime import date

import polars as pl


def demand_history(con, as_of: date) -> pl.DataFrame:
    """Daily units per active SKU up to and including `as_of`, as `forecast_demand` and
    `backtest` take it: unique_id (the SKU), ds (date), y (units demanded that day,
    Float64), is_stockout (the day was out of stock, so demand is censored), is_promo,
    sorted by SKU and day.

    con: a DuckDB connection to a built warehouse (read-only is enough); reads
    marts.fct_sku_demand_daily for the SKUs whose marts.dim_products status is active (or
    unknown). Empty when there is no demand yet. Raises duckdb.CatalogException when
    either mart does not exist.
    """
    return con.sql(
        """
        select demand.sku as unique_id, demand.demand_date as ds, cast(demand.units as double) as y,
               demand.is_stockout, demand.is_promo
        from marts.fct_sku_demand_daily as demand
        inner join marts.dim_products as products on products.sku = demand.sku
        where demand.demand_date <= ? and coalesce(products.status, 'active') = 'active'
        order by 1, 2
        """,
        params=[as_of],
    ).pl()
