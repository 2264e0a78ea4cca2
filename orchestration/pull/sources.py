"""Every source `storeops pull` and the pull assets know: a name under `sources:`, the
resources pulled from it, and the raw table each feeds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestration.pull.shopify import PullError
from orchestration.pull.state import PullLog
from orchestration.settings import Settings

# (name under `sources:`, resource, raw table it feeds), in the order a pull runs them.
RESOURCES = (
    ("shopify", "orders", "shopify_orders"),
    ("shopify", "products", "shopify_products"),
    ("shopify", "customers", "shopify_customers"),
    ("shopify", "inventory", "shopify_inventory"),
    ("shopify", "payment_transactions", "shopify_payment_transactions"),
    ("meta", "insights", "meta_ads"),
    ("google_ads", "report", "google_ads"),
    ("tiktok", "report", "tiktok_ads"),
    ("gorgias", "tickets", "gorgias_tickets"),
    ("zendesk", "tickets", "zendesk_tickets"),
)
PULLERS = tuple(dict.fromkeys(name for name, _, _ in RESOURCES))


def source_settings(name: str, config: dict, where: str):
    """The checked settings of source `name` (ShopifySettings, MetaSettings, ...). Raises
    ValueError naming `where` and the key for a bad value, KeyError for an unknown name."""
    if name == "shopify":
        from orchestration.pull.shopify import ShopifySettings as kind
    elif name == "gorgias":
        from orchestration.pull.gorgias import GorgiasSettings as kind
    elif name == "zendesk":
        from orchestration.pull.zendesk import ZendeskSettings as kind
    elif name == "meta":
        from orchestration.pull.meta import MetaSettings as kind
    elif name == "tiktok":
        from orchestration.pull.tiktok import TikTokSettings as kind
    elif name == "google_ads":
        from orchestration.pull.google_ads import GoogleAdsSettings as kind
    else:
        raise KeyError(name)
    return kind.from_config(config, where)


def pull_resource(name: str, resource: str, settings: Settings, *, since: str | None = None,
                  on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull one resource of source `name` of this home (its `sources:` entry) into the
    landing directory. Returns the PullLog. Raises ValueError (settings), KeyError (an
    unknown source or resource), CredentialError or PullError."""
    config = source_settings(name, settings.sources[name], str(Path(settings.home) / "storeops.yml"))
    home, landing, tz = settings.home, settings.landing, settings.timezone
    if (name, resource) == ("shopify", "orders"):
        from orchestration.pull.shopify import pull_orders

        return pull_orders(home, landing, config, timezone=tz, since=since, on_page=on_page)
    if name == "shopify":
        from orchestration.pull import shopify

        pull = {"products": shopify.pull_products, "customers": shopify.pull_customers,
                "inventory": shopify.pull_inventory,
                "payment_transactions": shopify.pull_payment_transactions}[resource]
        return pull(home, landing, config, timezone=tz, since=since, on_page=on_page)
    if name == "meta":
        from orchestration.pull import meta

        return meta.pull_insights(home, landing, config, timezone=tz, since=since, on_page=on_page)
    if name == "google_ads":
        from orchestration.pull import google_ads

        return google_ads.pull_report(home, landing, config, timezone=tz, since=since,
                                      on_page=on_page)
    if name == "tiktok":
        from orchestration.pull import tiktok

        return tiktok.pull_report(home, landing, config, timezone=tz, currency=settings.currency,
                                  since=since, on_page=on_page)
    if name == "zendesk":
        from orchestration.pull import zendesk

        return zendesk.pull_tickets(home, landing, config, timezone=tz, since=since,
                                    on_page=on_page)
    if name == "gorgias":
        from orchestration.pull import gorgias

        return gorgias.pull_tickets(home, landing, config, since=since, on_page=on_page)
    raise KeyError(f"{name}/{resource}")


def pull_source(name: str, settings: Settings, *, since: str | None = None,
                on_page: Callable[[str, int], None] | None = None) -> list[PullLog]:
    """Pull every resource of source `name`, in RESOURCES order. Returns their PullLogs
    (a resource the account does not have, Shopify Payments, is one with status
    "skipped" and the reason in `error`). Raises as `pull_resource` does, at the first
    resource that fails."""
    return [pull_resource(name, resource, settings, since=since, on_page=on_page)
            for source, resource, _ in RESOURCES if source == name]


__all__ = ["PULLERS", "RESOURCES", "PullError", "pull_resource", "pull_source", "source_settings"]
