"""Pulls from the vendors' APIs (orchestration.pull) as assets upstream of the raw tables
they feed, with a freshness check per source.

`pull/<raw table>` (pull/shopify_orders, pull/gorgias_tickets) writes what changed since
its cursor into the landing folder before the raw table loads it. It pulls when
storeops.yml configures the source under `sources:` and the run does not carry the tag
`storeops/pull=false` (`storeops run` sets it unless given `--pull`; the daily schedule
and a materialisation from the Dagster UI pull). A pull that fails (the API down, a
token rejected) is reported in its metadata and the log and fails its freshness check
once the last good pull is older than `freshness_hours`, but does not stop the run:
the exports already in the landing folder still load. A pull recorded as skipped (a store
without Shopify Payments, or a token without its scope) says why in its metadata and
makes its check a warning.
"""


import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import StoreResource
from orchestration.defs.shared import PULL_TAG, pull_key
from orchestration.pull.sources import RESOURCES  # light: dlt loads only when a pull runs

# Not in the ingest group: the landing sensor's ingest_job must not pull (a pull writes
# landing files, which would wake the sensor again).
PULL_GROUP = "pull"
DEFAULT_FRESHNESS_HOURS = 26.0


def _sources(store: StoreResource) -> dict:
    return json.loads(store.sources_json or "{}")


def last_pulls(home: Path, source: str, resource: str) -> tuple[dict | None, dict | None]:
    """(the last pull of `source/resource` in `<home>/pulls/log.jsonl`, the last one that
    finished), each a PullLog as a dict, or None."""
    path = Path(home) / "pulls" / "log.jsonl"
    last = done = None
    if path.exists():
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["source"] == source and entry["resource"] == resource:
                last = entry
                if entry["status"] == "done":
                    done = entry
    return last, done


def build_pull_asset(source: str, resource: str, table: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=pull_key(table),
        group_name=PULL_GROUP,
        kinds={source, "api"},
        description=(f"{source.capitalize()} {resource} changed since the last pull, from the "
                     f"vendor's API, written to the landing folder of `raw.{table}` "
                     f"(orchestration/pull/{source}.py). Needs `sources: {source}:` in "
                     "storeops.yml and its credential in the environment (README)."),
    )
    def _pull(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
        from orchestration.pull import CredentialError
        from orchestration.pull.sources import PullError, pull_resource
        from orchestration.settings import Settings

        sources = _sources(store)
        if source not in sources:
            return dg.MaterializeResult(metadata={"pulled": False, "reason": dg.MetadataValue.text(
                f"no `sources: {source}:` in storeops.yml: nothing to pull")})
        if context.run.tags.get(PULL_TAG) == "false":
            return dg.MaterializeResult(metadata={"pulled": False, "reason": dg.MetadataValue.text(
                "this run did not ask to pull (storeops run --pull does)")})
        settings = Settings(home=Path(store.home), landing=store.landing_path,
                            timezone=store.timezone, currency=store.currency, sources=sources)
        try:
            log = pull_resource(source, resource, settings,
                                on_page=lambda name, n: context.log.info(f"{name}: {n} {resource}"))
        except (CredentialError, PullError, ValueError) as exc:  # ValueError: its settings
            context.log.error(f"{source} {resource}: pull failed, the landing files already "
                              f"there still load: {exc}")
            return dg.MaterializeResult(metadata={"pulled": False,
                                                  "error": dg.MetadataValue.text(str(exc))})
        if log.status == "skipped":  # a resource the account does not have (Shopify Payments)
            context.log.warning(log.error or f"{source} {resource}: skipped")
            return dg.MaterializeResult(metadata={"pulled": False, "reason": dg.MetadataValue.text(
                log.error or "skipped")})
        return dg.MaterializeResult(metadata={
            "pulled": True,
            "window_start": log.since or "everything (first pull)",
            "cursor": log.cursor or "none",
            "pages": log.pages,
            "records": log.records,
            "rows": log.rows,
            "requests": log.requests,
            "throttle_waits": log.throttle_waits,
            "throttle_seconds": log.throttle_seconds,
            "seconds": log.seconds,
            "files": dg.MetadataValue.md("\n".join(f"- `{f}`" for f in log.files[:50]) or "none"),
        })

    return _pull


def build_freshness_check(source: str, resource: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=pull_key(table),
        name="pulled_within_freshness_window",
        blocking=False,
        description=f"When {source} is configured under `sources:`, its last successful pull "
                    "is at most `freshness_hours` old (default 26).",
    )
    def _fresh(store: StoreResource) -> dg.AssetCheckResult:
        config = _sources(store).get(source)
        if config is None:
            return dg.AssetCheckResult(passed=True, metadata={"configured": False})
        hours = float(config.get("freshness_hours", DEFAULT_FRESHNESS_HOURS))
        last, done = last_pulls(Path(store.home), source, resource)
        if done is None:
            age = None
        else:
            pulled = datetime.strptime(done["pull_id"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            age = (datetime.now(UTC) - pulled).total_seconds() / 3600
        if last and last["status"] == "skipped":
            # Nothing to pull for this account (a store without Shopify Payments, or a
            # token without the scope): a warning saying why, not an error.
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.WARN,
                description=last.get("error") or f"{source} {resource}: skipped",
                metadata={"configured": True, "skipped": True, "freshness_hours": hours})
        passed = age is not None and age <= hours
        error = last.get("error") if last and last["status"] != "done" else None
        text = ("never pulled successfully" if age is None
                else f"last successful pull {age:.1f} hours ago (limit {hours:g})")
        return dg.AssetCheckResult(
            passed=passed, severity=dg.AssetCheckSeverity.ERROR,
            description=None if passed else f"{source} {resource}: {text}"
                                            + (f"; last attempt failed: {error}" if error else ""),
            metadata={"configured": True,
                      "hours_since_pull": round(age, 2) if age is not None else -1.0,
                      "freshness_hours": hours})

    return _fresh


pull_assets = [build_pull_asset(*spec) for spec in RESOURCES]
pull_checks = [build_freshness_check(*spec) for spec in RESOURCES]
