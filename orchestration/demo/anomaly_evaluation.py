"""Scoring anomaly alerts against the demo store's answer key (`evaluate_alerts`).

The answer key is the list of incidents the demo generator planted (demo_truth/
incidents.json), or any list labelled the same way. Everything that knows about such a
key (its dict format, the kinds of planted incidents and their lagged consequences, the
grace days of a detection) lives here, beside the generator that plants them; the
detector (models.anomalies) never reads it (import-linter contract).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from models.anomalies.metrics import BREAKDOWN_ONLY, METRICS
from models.anomalies.series import PAID_WINDOW_DAYS, RETURN_WINDOW_DAYS

DETECTION_GRACE_DAYS = 7
# Keyed by the `kind` of an answer-key incident: the anomaly kinds a demo store plants
# (orchestration/demo/generator.py).
# What else a planted incident moves, and for how long after its last day: alerts there
# are consequences, not false alerts. (metric, dimension): "incident" is the incident's
# own dimension, "all" the store level, "any" every dimension.
INCIDENT_EFFECTS: dict[str, tuple[tuple[tuple[str, str], ...], int, int]] = {
    # Lost orders also lower revenue, and new customers of every paid channel (its 7-day
    # cac and roas carry that for a week).
    "conversion_rate_drop": ((("conversion_rate", "incident"), ("orders", "all"),
                              ("revenue", "all"), ("cac", "any"), ("roas", "any")),
                             0, PAID_WINDOW_DAYS),
    # A 14-day cohort window still holds bad-batch cohorts 13 days after the last one.
    "return_rate_spike": ((("return_rate", "incident"), ("return_rate", "all")),
                          0, RETURN_WINDOW_DAYS),
    "cac_spike": ((("cac", "incident"), ("spend", "incident"), ("roas", "incident")),
                  0, PAID_WINDOW_DAYS),
    # Orders from two days before the carrier delay shipped late; replies slowed.
    "ticket_volume_spike": ((("ticket_volume", "incident"), ("ticket_volume", "all"),
                             ("first_reply_minutes", "all")), 2, 7),
}


def evaluate_alerts(alerts: pl.DataFrame, incidents: list[dict], *, start: date, end: date,
                    series: pl.DataFrame | None = None) -> pl.DataFrame:
    """Alerts against an answer key of labelled incidents, per metric and "overall".

    `alerts`: output of `detect_anomalies` or `threshold_baseline` (metric, dimension,
    date, incident_id). `incidents`: the answer key, a list of dicts such as a demo
    store's demo_truth/incidents.json, one per incident, with keys:
    - id: unique name of the incident;
    - metric: a storeops metric name (`METRICS`); others (supplier lead times) are
      left out of recall;
    - start_date, end_date: first and last day, ISO strings or dates (inclusive);
    - dimension (optional): {"channel": "all"} or missing is the store level, {"sku":
      "X"} is "sku=X", {"channel": "meta"} is "channel=meta";
    - kind (optional): the kind of incident, the key of its lagged effects in
      `INCIDENT_EFFECTS` (e.g. "conversion_rate_drop"); an incident of another kind
      explains only alerts of its own metric and dimension, up to 7 days after end_date.
    Only alert days in [start, end] count. `series` (optional, kpi_series output) gives
    the number of series scored per metric.

    Output columns: metric, incidents_planted, incidents_detected, recall,
    alert_incidents, false_alert_incidents, series, series_months,
    false_alerts_per_month (per metric: false alert incidents / months, a month being
    30.4375 days of [start, end]; on "overall", averaged over the metrics),
    false_alerts_per_series_month (false alert incidents / series x months).
    - detected: an alert incident of the same metric and dimension starts within
      [start_date, end_date + 7];
    - false alert incident: an alert incident that overlaps no planted incident's window
      for its metric and dimension, widened by the incident's known lagged effects
      (`INCIDENT_EFFECTS`: e.g. a checkout bug also drops orders and revenue).
    """
    for column in ("metric", "dimension", "date", "incident_id"):
        if column not in alerts.columns:
            raise ValueError(f"alerts is missing column '{column}'")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    months = ((end - start).days + 1) / 30.4375
    planted = [planted_incident(incident) for incident in incidents]
    planted = [p for p in planted if p["metric"] in METRICS and p["start"] <= end
               and p["end"] >= start]
    found = (alerts.filter(pl.col("date").is_between(start, end))
             .group_by("incident_id").agg(pl.col("metric").first(), pl.col("dimension").first(),
                                          pl.col("date").min().alias("first"),
                                          pl.col("date").max().alias("last")))
    detected = {
        p["id"] for p in planted
        if found.filter((pl.col("metric") == p["metric"])
                        & (pl.col("dimension") == p["dimension"])
                        & pl.col("first").is_between(
                            p["start"], p["end"] + timedelta(days=DETECTION_GRACE_DAYS))).height
    }
    explained = pl.lit(False)
    for p in (planted_incident(incident) for incident in incidents):
        effects, before, after = INCIDENT_EFFECTS.get(
            p["kind"], (((p["metric"], "incident"),), 0, DETECTION_GRACE_DAYS))
        for metric, rule in effects:
            dimension = {"incident": pl.col("dimension") == p["dimension"],
                         "all": pl.col("dimension") == "all", "any": pl.lit(True)}[rule]
            explained = explained | (
                (pl.col("metric") == metric) & dimension
                & (pl.col("first") <= p["end"] + timedelta(days=after))
                & (pl.col("last") >= p["start"] - timedelta(days=before)))
    found = found.with_columns((~explained).alias("is_false"))

    metrics = [name for name in METRICS
               if name in set(found["metric"]) | {p["metric"] for p in planted}
               or (series is not None and name in set(series["metric"]))]
    counts = _series_counts(series, start, end)
    rows = []
    for metric in metrics:
        mine = [p for p in planted if p["metric"] == metric]
        hits = sum(p["id"] in detected for p in mine)
        of_metric = found.filter(pl.col("metric") == metric)
        n_series = counts.get(metric) if counts is not None else None
        rows.append(_evaluation_row(metric, len(mine), hits, of_metric.height,
                                    int(of_metric["is_false"].sum()), n_series, months, 1))
    total_series = sum(counts.get(m, 0) for m in metrics) if counts is not None else None
    rows.append(_evaluation_row("overall", len(planted), len(detected), found.height,
                                int(found["is_false"].sum()), total_series, months,
                                max(len(metrics), 1)))
    return pl.DataFrame(rows, schema={
        "metric": pl.Utf8, "incidents_planted": pl.Int64, "incidents_detected": pl.Int64,
        "recall": pl.Float64, "alert_incidents": pl.Int64, "false_alert_incidents": pl.Int64,
        "series": pl.Int64, "series_months": pl.Float64, "false_alerts_per_month": pl.Float64,
        "false_alerts_per_series_month": pl.Float64}, orient="row")


def planted_incident(incident: dict) -> dict:
    """An answer-key incident (one entry of the list `evaluate_alerts` takes: id,
    metric, start_date, end_date as ISO text or dates, optional kind and dimension such as
    {"channel": "meta"}) in storeops' terms: {"id", "kind", "metric", "dimension"
    ("all" or "key=value", as in the alerts), "start", "end" (dates)}. A dimension of
    {"channel": "all"} is the store. Raises KeyError when id, metric or a date is missing,
    ValueError for a date that is not ISO."""
    dimension = incident.get("dimension") or {}
    if not dimension or dimension == {"channel": "all"}:
        name = "all"
    else:
        key, value = next(iter(dimension.items()))
        name = f"{key}={value}"

    def day(value: str | date) -> date:
        return value if isinstance(value, date) else date.fromisoformat(value)

    return {"id": incident["id"], "kind": incident.get("kind", ""),
            "metric": incident["metric"], "dimension": name,
            "start": day(incident["start_date"]), "end": day(incident["end_date"])}


def _series_counts(series: pl.DataFrame | None, start: date, end: date) -> dict[str, int] | None:
    if series is None:
        return None
    scored = series.filter(pl.col("ds").is_between(start, end)
                           & ~(pl.col("metric").is_in(BREAKDOWN_ONLY)
                               & (pl.col("dimension") != "all")))
    return dict(scored.group_by("metric").agg(pl.col("dimension").n_unique()).iter_rows())


def _evaluation_row(metric: str, planted: int, detected: int, alert_incidents: int,
                    false_incidents: int, n_series: int | None, months: float,
                    n_metrics: int) -> tuple:
    series_months = n_series * months if n_series is not None else None
    return (metric, planted, detected, detected / planted if planted else None,
            alert_incidents, false_incidents, n_series, series_months,
            false_incidents / (months * n_metrics),
            false_incidents / series_months if series_months else None)
