"""Every source `storeops pull` and the pull assets know, by its name under `sources:`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from orchestration.pull.shopify import PullError
from orchestration.pull.state import PullLog
from orchestration.settings import Settings

# name under `sources:` -> (resource, raw table it feeds)
PULLERS = {"shopify": ("orders", "shopify_orders"), "gorgias": ("tickets", "gorgias_tickets"),
           "zendesk": ("tickets", "zendesk_tickets"), "meta": ("insights", "meta_ads"),
           "tiktok": ("report", "tiktok_ads"), "google_ads": ("report", "google_ads")}


def source_settings(name: str, config: dict, where: str):
    """The checked settings of source `name` (ShopifySettings, GorgiasSettings). Raises
    ValueError naming `where` and the key for a bad value, KeyError for an unknown name."""
    if name == "shopify":
        from orchestration.pull.shopify import ShopifySettings

        return ShopifySettings.from_config(config, where)
    if name == "gorgias":
        from orchestration.pull.gorgias import GorgiasSettings

        return GorgiasSettings.from_config(config, where)
    if name == "zendesk":
        from orchestration.pull.zendesk import ZendeskSettings

        return ZendeskSettings.from_config(config, where)
    if name == "meta":
        from orchestration.pull.meta import MetaSettings

        return MetaSettings.from_config(config, where)
    if name == "tiktok":
        from orchestration.pull.tiktok import TikTokSettings

        return TikTokSettings.from_config(config, where)
    if name == "google_ads":
        from orchestration.pull.google_ads import GoogleAdsSettings

        return GoogleAdsSettings.from_config(config, where)
    raise KeyError(name)


def pull_source(name: str, settings: Settings, *, since: str | None = None,
                on_page: Callable[[str, int], None] | None = None) -> PullLog:
    """Pull source `name` of this home (its `sources:` entry) into the landing directory.
    Returns the PullLog. Raises ValueError (settings), CredentialError or PullError."""
    config = source_settings(name, settings.sources[name], str(Path(settings.home) / "storeops.yml"))
    if name == "shopify":
        from orchestration.pull.shopify import pull_orders

        return pull_orders(settings.home, settings.landing, config, timezone=settings.timezone,
                           since=since, on_page=on_page)
    if name == "google_ads":
        from orchestration.pull import google_ads

        return google_ads.pull_report(settings.home, settings.landing, config,
                                      timezone=settings.timezone, since=since, on_page=on_page)
    if name == "tiktok":
        from orchestration.pull import tiktok

        return tiktok.pull_report(settings.home, settings.landing, config,
                                  timezone=settings.timezone, currency=settings.currency,
                                  since=since, on_page=on_page)
    if name == "meta":
        from orchestration.pull import meta

        return meta.pull_insights(settings.home, settings.landing, config,
                                  timezone=settings.timezone, since=since, on_page=on_page)
    if name == "zendesk":
        from orchestration.pull import zendesk

        return zendesk.pull_tickets(settings.home, settings.landing, config,
                                    timezone=settings.timezone, since=since, on_page=on_page)
    from orchestration.pull import gorgias

    return gorgias.pull_tickets(settings.home, settings.landing, config, since=since,
                                on_page=on_page)


__all__ = ["PULLERS", "PullError", "pull_source", "source_settings"]
