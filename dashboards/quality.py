"""output/quality/index.html: the data-quality report.

For the data team and for a manager who wants to know whether today's numbers can be
trusted: per source the files loaded and rejected, rows loaded and quarantined (with
the reasons, the column and where), the newest date each source reaches, and the checks
(Great Expectations suites, row conservation, dbt tests) passed and failed over the
last runs, with what broke in the latest run.

`load_quality_data(con)` reads the warehouse; `quality_report(data, runs)` is pure. No
raw row is shown (quarantined rows can hold customer data): only file, row, column,
reason, and any email-like text is masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from dashboards.document import Bullets, Document, Heading, Note, Paragraph, Table, number, percent
from quality.warehouse import column_exists, file_warnings, resolved_as_of
from quality.warehouse import rows as _rows
from quality.warehouse import table_exists as _has

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
HELP_DESKS = {"zendesk_tickets", "gorgias_tickets"}
DAILY_FEEDS = {"shopify_orders", "shopify_inventory", "meta_ads", "google_ads", "tiktok_ads",
               "analytics_sessions", "zendesk_tickets", "gorgias_tickets"}


@dataclass
class QualityData:
    """What the data-quality report shows: per source its files and rows (`sources`), the
    quarantine reasons, the rejected files, the as-of date and the loader's warnings."""

    sources: list[dict]
    reasons: list[dict]
    rejected: list[dict]
    as_of: date | None
    warnings: list[dict] = field(default_factory=list)  # quality.warehouse.file_warnings
    # analytics.outbox (orchestration/delivery): per kind and status over the last 7 days,
    # and every delivery not (yet) sent with its error.
    deliveries: list[dict] = field(default_factory=list)
    undelivered: list[dict] = field(default_factory=list)


def load_quality_data(con) -> QualityData:
    """Read the report's data from raw.load_log and raw.quarantine of the warehouse `con`
    (a DuckDB connection); an empty QualityData when nothing was ever loaded. The as-of
    date is the run's (intermediate.int_as_of_resolved), else the newest data date."""
    if not _has(con, "raw", "load_log"):
        return QualityData([], [], [], None)
    sources = _rows(con, """
        select source,
               count(*) filter (where status = 'loaded') as files_loaded,
               count(*) filter (where status = 'rejected') as files_rejected,
               coalesce(sum(rows_in) filter (where status = 'loaded'), 0) as rows_in,
               coalesce(sum(rows_loaded), 0) as rows_loaded,
               coalesce(sum(rows_quarantined), 0) as rows_quarantined,
               {duplicates} as rows_duplicate,
               max(max_date) filter (where status = 'loaded') as newest_date,
               max(loaded_at) as last_load
        from raw.load_log group by source order by source
    """.replace("{duplicates}", "coalesce(sum(rows_duplicate), 0)"
                if column_exists(con, "raw", "load_log", "rows_duplicate") else "0"))
    reasons = []
    if _has(con, "raw", "quarantine"):
        reasons = _rows(con, """
            select source, coalesce(column_name, '') as column_name, reason, count(*) as rows,
                   count(distinct source_file) as files,
                   min(source_file || ' row ' || source_row) as example
            from raw.quarantine group by 1, 2, 3 order by rows desc, source limit 100
        """)
    rejected = _rows(con, """
        select source, source_file, message, loaded_at from raw.load_log
        where status = 'rejected' order by loaded_at desc, source_file limit 50
    """)
    as_of = resolved_as_of(con)  # the run's as-of date, as dbt resolved it
    if as_of is None:
        as_of = max((s["newest_date"] for s in sources if s["newest_date"]), default=None)
    deliveries, undelivered = [], []
    if _has(con, "analytics", "outbox"):
        deliveries = _rows(con, """
            select kind, channel, count(*) filter (where status = 'sent') as sent,
                   count(*) filter (where status <> 'sent') as not_sent
            from analytics.outbox
            where coalesce(last_attempt_at, created_at) >= now()::timestamp - interval 7 day
            group by 1, 2 order by 1, 2
        """)
        undelivered = _rows(con, """
            select kind, as_of_date, channel, recipient, status, attempts, last_error,
                   last_attempt_at
            from analytics.outbox where status <> 'sent'
            order by last_attempt_at desc nulls last limit 50
        """)
    return QualityData(sources, reasons, rejected, as_of, file_warnings(con), deliveries,
                       undelivered)


def _mask(text: str) -> str:
    return EMAIL.sub("[email]", text or "")


def _status(ev: dict) -> str:
    if ev["passed"]:
        return "passed"
    return "FAILED" if ev["severity"] == "ERROR" else "warning"


def _mark(ev: dict | None) -> str:
    if ev is None:
        return "·"
    return {"passed": "✓", "FAILED": "✗", "warning": "!"}[_status(ev)]


def quality_report(data: QualityData, runs: list[dict], *, currency: str = "") -> Document:
    """runs: newest first, as orchestration.defs.quality.recent_check_runs gives them."""
    subtitle = (f"Data as of {data.as_of.isoformat()}" if data.as_of else "No data loaded yet")
    if runs and runs[0]["started"]:
        subtitle += f"; last run {runs[0]['started']:%Y-%m-%d %H:%M} UTC"
    doc = Document("Data quality", subtitle)

    latest = runs[0]["evaluations"] if runs else []
    failed = [e for e in latest if not e["passed"] and e["severity"] == "ERROR"]
    warned = [e for e in latest if not e["passed"] and e["severity"] != "ERROR"]
    quarantined = sum(s["rows_quarantined"] for s in data.sources)
    duplicates = sum(s["rows_duplicate"] for s in data.sources)
    rows_in = sum(s["rows_in"] for s in data.sources)
    verdict = ("**Outputs were stopped**: blocking checks failed in the last run (below). "
               "The reorder files and briefings of the failed branch were not written; the "
               "last good ones are kept." if failed else
               "All blocking checks passed in the last run: the outputs were built from "
               "checked data." if latest else "No check has run yet.")
    doc.add(Paragraph(verdict))
    doc.add(Bullets((
        (f"{len(latest)} checks in the last run: {len(latest) - len(failed) - len(warned)} "
        f"passed, {len(failed)} failed (blocking), {len(warned)} warnings."),
        (f"{number(rows_in)} rows read from {sum(s['files_loaded'] for s in data.sources)} "
        f"files: {number(rows_in - quarantined - duplicates)} loaded, {number(quarantined)} "
        f"quarantined ({percent(quarantined / rows_in if rows_in else None, 2)}), "
        f"{number(duplicates)} exact repeats of a row loaded once; "
        f"{sum(s['files_rejected'] for s in data.sources)} files rejected."),
    )))

    if failed or warned:
        doc.add(Heading("What broke in the last run"))
        for ev in failed + warned:
            md = ev["metadata"]
            items = [f.get("text", "") for f in (md.get("failures") or [])]
            if not items and ev["description"]:
                items = [ev["description"]]
            where = md.get("where_to_look")
            title = (f"{ev['asset']}: {ev['check']} ({'blocking' if ev in failed else 'warning'}"
                     + (f", stops {md['blocks']}" if ev in failed and md.get("blocks") else "")
                     + ")")
            doc.add(Heading(title, 3))
            doc.add(Bullets(tuple(_mask(i) for i in items[:10]) or ("failed",)))
            if where:
                doc.add(Note(f"Where to look: {where}."))

    doc.add(Heading("Sources"))
    stale_before = data.as_of - timedelta(days=1) if data.as_of else None
    rows = []
    # The two help desks count as one feed: a store that moved from Zendesk to Gorgias
    # has an old Zendesk export, not a dead feed.
    desks = [s["newest_date"] for s in data.sources
             if s["source"] in HELP_DESKS and s["newest_date"]]
    for s in data.sources:
        newest = s["newest_date"]
        fresh = ""
        if newest and stale_before and s["source"] in DAILY_FEEDS:
            lag = (data.as_of - newest).days
            fresh = "fresh" if newest >= stale_before else f"stale: {lag} days behind"
            if s["source"] in HELP_DESKS and newest < stale_before and max(desks) >= stale_before:
                fresh = "superseded by the other help desk"
        rows.append((s["source"], number(s["files_loaded"]), number(s["files_rejected"]),
                     number(s["rows_in"]), number(s["rows_loaded"]),
                     number(s["rows_quarantined"]), number(s["rows_duplicate"]),
                     newest.isoformat() if newest else "", fresh,
                     f"{s['last_load']:%Y-%m-%d %H:%M}" if s["last_load"] else ""))
    if rows:
        doc.add(Table(("source", "files loaded", "files rejected", "rows in", "rows loaded",
                       "quarantined", "repeats", "newest date", "freshness", "last load (UTC)"),
                      tuple(rows),
                      (False, True, True, True, True, True, True, False, False, False)))
        doc.add(Note("Rows in = rows loaded + rows quarantined + exact repeats of a row in "
                     "the same file (loaded once), per file (a blocking check enforces it). "
                     "Freshness: daily feeds should reach the day before the "
                     "as-of date; catalogues and purchasing files change when they change."))
    else:
        doc.add(Note("No landing file has been loaded yet."))

    doc.add(Heading("Quarantined rows by reason"))
    if data.reasons:
        doc.add(Table(("source", "column", "reason", "rows", "files", "first at"),
                      tuple((r["source"], r["column_name"], _mask(r["reason"]),
                             number(r["rows"]), number(r["files"]), _mask(r["example"]))
                            for r in data.reasons),
                      (False, False, False, True, True, False)))
        doc.add(Note("Each quarantined row is kept whole in raw.quarantine (warehouse only: it "
                     "can hold customer data) with its file, row, column and reason."))
    else:
        doc.add(Paragraph("No row quarantined."))

    if data.warnings:
        doc.add(Heading("Warnings about loaded files"))
        doc.add(Table(("source", "file", "warning", "loaded (UTC)"),
                      tuple((w["source"], w["source_file"], _mask(w["warning"]),
                             f"{w['loaded_at']:%Y-%m-%d %H:%M}") for w in data.warnings[:50]),
                      (False, False, False, False)))

    if data.rejected:
        doc.add(Heading("Rejected files"))
        doc.add(Table(("source", "file", "why", "when (UTC)"),
                      tuple((r["source"], r["source_file"], _mask(r["message"] or ""),
                             f"{r['loaded_at']:%Y-%m-%d %H:%M}") for r in data.rejected),
                      (False, False, False, False)))

    if data.deliveries or data.undelivered:
        doc.add(Heading("Deliveries (email and Slack)"))
        if data.undelivered:
            doc.add(Paragraph(f"**{len(data.undelivered)} not delivered**: failed ones are "
                              "retried by the next run or `storeops send` (up to 5 attempts); "
                              "refused ones need the address or the webhook fixed; sending "
                              "means a pass stopped mid-send and the next sends it again."))
            doc.add(Table(("kind", "as of", "channel", "to", "status", "attempts", "error"),
                          tuple((d["kind"], str(d["as_of_date"] or ""), d["channel"],
                                 _mask(d["recipient"]), d["status"], number(d["attempts"]),
                                 _mask(d["last_error"] or "")) for d in data.undelivered),
                          (False, False, False, False, False, True, False)))
        doc.add(Table(("kind", "channel", "sent", "not sent"),
                      tuple((d["kind"], d["channel"], number(d["sent"]), number(d["not_sent"]))
                            for d in data.deliveries), (False, False, True, True)))
        doc.add(Note("The last 7 days of analytics.outbox: one row per message and recipient."))

    doc.add(Heading(f"Checks over the last {len(runs)} runs"))
    if runs:
        per_run = [{(e["asset"], e["check"]): e for e in r["evaluations"]} for r in runs]
        ever_failed = {k for p in per_run for k, e in p.items() if not e["passed"]}
        # Checks that failed in any recent run first, then the suites, then the rest.
        keys = sorted({(e["asset"], e["check"]) for r in runs for e in r["evaluations"]},
                      key=lambda k: (k not in ever_failed,
                                     not k[1].startswith(("gx_", "rows_")), k))
        table_rows = []
        for key in keys:
            marks = "".join(_mark(p.get(key)) for p in reversed(per_run))
            last = per_run[0].get(key)
            fails = sum(1 for p in per_run if p.get(key) and not p[key]["passed"])
            table_rows.append((key[0], key[1], _status(last) if last else "not run",
                               number(fails), marks))
        doc.add(Table(("asset", "check", "last run", "runs failed", "history (oldest → newest)"),
                      tuple(table_rows), (False, False, False, True, False)))
        doc.add(Note("✓ passed, ✗ failed and blocked what depends on it, ! warning, · not run. "
                     "gx_suite: the Great Expectations suite of the table (quality/suites.py); "
                     "rows_in_equal_loaded_plus_quarantined: row conservation; the rest are dbt "
                     "data tests and model checks. Runs: "
                     + ", ".join(f"{r['started']:%m-%d %H:%M}" + (f" as of {r['as_of']}"
                                                                  if r["as_of"] else "")
                                 for r in reversed(runs) if r["started"]) + "."))
    else:
        doc.add(Note("No run has evaluated checks yet."))
    return doc
