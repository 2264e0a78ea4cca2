"""The managers' dashboards: five self-contained HTML pages of Plotly charts.

`load_dashboard_data(con, as_of)` (in `data`) reads the marts and the analytics tables,
everything filtered to dates on or before `as_of` (a past as-of replays what the
dashboards said then), and aggregates them into small polars frames (`DashboardData`): no
e-mail address, no hashed customer id and no per-customer row leaves this function.
`write_dashboards(data, out_dir, *, as_of, currency)` (in `write`) writes
`out_dir/{overview,marketing,inventory,customers,support}.html` and returns name -> path.

Pages are readable offline: plotly.js is inlined once per page, no CDN, no web font, no
MathJax. A chart that needs more history than the store has, or an analytics table that
was not built (or was built after `as_of`), becomes a one-line note instead of an empty
chart or an exception.

Modules, top to bottom; a module imports only from the lines below its own
(pyproject.toml's import-linter contract checks it):
- `write`: `write_dashboards`, the five pages together.
- `overview`, `marketing`, `inventory`, `customers`, `support`: one page each, its
  figures and tables; pages never import one another.
- `shell`: `Page` (a page's blocks) and the HTML template; `figures`: the shared figure
  helpers (one style, range selector, alert markers, money formatting, trend panels).
- `theme`: palette, colours, Plotly template, legend and plot config; `data`:
  `DashboardData` and `load_dashboard_data` (SQL, no Plotly).
- `metrics`: KPI windows, cohort retention and month helpers (polars only).
"""
