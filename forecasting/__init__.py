"""Demand forecasting, backtests and replenishment for the store (pure: polars in, polars out).

- `forecast_demand(history, horizon, ...)`: daily/weekly/monthly demand per SKU with
  intervals, model chosen per SKU by cross-validation (forecasting/demand.py).
- `backtest(history, horizon, *, windows)` and `summarise_backtest(result)`: rolling-origin
  accuracy against seasonal naive (forecasting/backtest.py); `backtest_detail` adds
  every candidate model's scores on the same points; `sample_series` spreads a large
  store's backtest over sales volume.
- `reorder_suggestions(forecast, position, terms, *, as_of, ...)`: periodic-review
  order-up-to lines for the buyers (forecasting/policy.py).
- `simulate_inventory(...)`: replays true demand day by day under a policy: fill rate,
  stockout days, lost sales, inventory value (forecasting/simulate.py); the policies it
  compares are in forecasting/replay_policies.py and the safety-stock calibration read off
  a replay in forecasting/safety_calibration.py; benchmarks/inventory_sim.py uses them.
- `forecasting.supply_risk.supply_alerts`: late POs, lead-time drift, promotions short of stock.
- `forecasting.warehouse.demand_history(con, as_of)`: the daily demand per active SKU the
  pipeline forecasts, read from the marts (the forecasting assets and benchmarks use it).
"""

from forecasting.backtest import backtest, backtest_detail, sample_series, summarise_backtest
from forecasting.demand import forecast_demand
from forecasting.policy import reorder_suggestions
from forecasting.simulate import simulate_inventory

__all__ = ["backtest", "backtest_detail", "forecast_demand", "reorder_suggestions",
           "sample_series", "simulate_inventory", "summarise_backtest"]
