"""Pulls from the vendors' APIs (orchestration.pull) as assets upstream of the raw tables
they feed, with a freshness check per source.

`pull/shopify_orders` writes the orders changed since its cursor into
`landing/shopify/orders/` before `raw.shopify_orders` loads that folder. It pulls when
storeops.yml has `sources: shopify:` and the run does not carry the tag
`storeops/pull=false` (`storeops run` sets it unless given `--pull`; the daily schedule
and a materialisation from the Dagster UI pull). A pull that fails (the API down, a
token rejected) is reported in its metadata and the log and fails its freshness check
once the last good pull is older than `freshness_hours`, but does not stop the run:
the exports already in the landing folder still load.
"""


import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import StoreResource
from orchestration.defs.shared import PULL_TAG, pull_key

PULL_GROUP = "ingest"
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


@dg.asset(
    key=pull_key("shopify_orders"),
    group_name=PULL_GROUP,
    kinds={"shopify", "graphql"},
    description=("Orders changed since the last pull, from Shopify's GraphQL Admin API, written "
                 "to `landing/shopify/orders/` as export-shaped pages (orchestration/pull/"
                 "shopify.py). Needs `sources: shopify:` in storeops.yml and "
                 "$SHOPIFY_ACCESS_TOKEN."),
)
def shopify_orders_pull(context: dg.AssetExecutionContext,
                        store: StoreResource) -> dg.MaterializeResult:
    from orchestration.pull import CredentialError
    from orchestration.pull.shopify import PullError, ShopifySettings, pull_orders

    config = _sources(store).get("shopify")
    if config is None:
        return dg.MaterializeResult(metadata={"pulled": False, "reason": dg.MetadataValue.text(
            "no `sources: shopify:` in storeops.yml: nothing to pull")})
    if context.run.tags.get(PULL_TAG) == "false":
        return dg.MaterializeResult(metadata={"pulled": False, "reason": dg.MetadataValue.text(
            "this run did not ask to pull (storeops run --pull does)")})
    settings = ShopifySettings.from_config(config, str(Path(store.home) / "storeops.yml"))
    try:
        log = pull_orders(Path(store.home), store.landing_path, settings, timezone=store.timezone,
                          on_page=lambda name, n: context.log.info(f"{name}: {n} orders"))
    except (CredentialError, PullError) as exc:
        context.log.error(f"shopify orders: pull failed, the landing files already there "
                          f"still load: {exc}")
        return dg.MaterializeResult(metadata={"pulled": False, "error": dg.MetadataValue.text(str(exc))})
    return dg.MaterializeResult(metadata={
        "pulled": True,
        "window_start": log.since or "everything (first pull)",
        "cursor": log.cursor or "none",
        "pages": log.pages,
        "orders": log.records,
        "rows": log.rows,
        "requests": log.requests,
        "throttle_waits": log.throttle_waits,
        "throttle_seconds": log.throttle_seconds,
        "seconds": log.seconds,
        "files": dg.MetadataValue.md("\n".join(f"- `{f}`" for f in log.files[:50]) or "none"),
    })


@dg.asset_check(
    asset=pull_key("shopify_orders"),
    name="pulled_within_freshness_window",
    blocking=False,
    description="When Shopify is configured under `sources:`, its last successful pull is "
                "at most `freshness_hours` old (default 26).",
)
def shopify_orders_fresh(store: StoreResource) -> dg.AssetCheckResult:
    config = _sources(store).get("shopify")
    if config is None:
        return dg.AssetCheckResult(passed=True, metadata={"configured": False})
    hours = float(config.get("freshness_hours", DEFAULT_FRESHNESS_HOURS))  # checked by ShopifySettings
    last, done = last_pulls(Path(store.home), "shopify", "orders")
    if done is None:
        age = None
    else:
        pulled = datetime.strptime(done["pull_id"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        age = (datetime.now(UTC) - pulled).total_seconds() / 3600
    passed = age is not None and age <= hours
    error = last.get("error") if last and last["status"] != "done" else None
    text = ("never pulled successfully" if age is None
            else f"last successful pull {age:.1f} hours ago (limit {hours:g})")
    return dg.AssetCheckResult(
        passed=passed, severity=dg.AssetCheckSeverity.ERROR,
        description=None if passed else f"shopify orders: {text}"
                                        + (f"; last attempt failed: {error}" if error else ""),
        metadata={"configured": True, "hours_since_pull": round(age, 2) if age is not None else -1.0,
                  "freshness_hours": hours})


pull_assets = [shopify_orders_pull]
pull_checks = [shopify_orders_fresh]
