"""Ad platform exports, monthly: Meta (`meta_ads/`, one month saved again in a
decimal-comma locale), Google Ads (`google_ads/`, title lines and total rows) and TikTok
(`tiktok_ads/`)."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.marketing import CAMPAIGNS, PLATFORMS, AdRows
from orchestration.demo.writers.format import (
    Landing,
    _gather,
    lit_str,
    money,
    money_decimal_comma,
    money_thousands,
    thousands,
)

META_HEADER = [
    "Reporting starts",
    "Reporting ends",
    "Day",
    "Campaign name",
    "Ad set name",
    "Ad name",
    "Delivery status",
    "Amount spent (USD)",
    "Impressions",
    "Reach",
    "Frequency",
    "Link clicks",
    "Results",
    "Result indicator",
    "Cost per result",
    "Purchases",
    "Purchases conversion value",
]
GOOGLE_HEADER = [
    "Day",
    "Campaign",
    "Ad group",
    "Currency code",
    "Cost",
    "Impr.",
    "Clicks",
    "CTR",
    "Avg. CPC",
    "Conversions",
    "Conv. value",
    "Cost / conv.",
]
TIKTOK_HEADER = [
    "By Day",
    "Campaign name",
    "Ad group name",
    "Ad name",
    "Currency",
    "Cost",
    "Impressions",
    "Clicks (destination)",
    "Conversions",
    "Total complete payment value",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _month_groups(days: np.ndarray) -> list[tuple[str, np.ndarray]]:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return [(str(m), months == m) for m in np.unique(months)]


def write_ads(
    landing: Landing,
    ads: AdRows,
    *,
    export_day: int,
    comma_month: str | None = None,
    ad_names: np.ndarray | None = None,
) -> dict | None:
    """Monthly ad platform exports. The Meta file of `comma_month` (YYYY-MM) was opened and
    saved again by a spreadsheet in a decimal-comma locale: `;` between fields, decimal
    commas and `.` thousands (`1.204,50`), CRLF line ends; the same columns. `ad_names`:
    the creative of each row (`orchestration.demo.creatives`), else each campaign's one
    ad. Returns that file's name, rows and exact spend (cents), or None."""
    comma: dict | None = None
    camp = ads.campaign
    platform = np.array([CAMPAIGNS[i].platform for i in range(len(CAMPAIGNS))])[camp]
    names = [c.name for c in CAMPAIGNS]
    if ad_names is None:
        ad_names = np.array([c.ad for c in CAMPAIGNS], dtype=object)[camp]
    ad_names = pl.Series(np.asarray(ad_names, dtype=object).astype(str))
    # Meta's Delivery status is the ad's: a creative replaced before the export is inactive.
    last_day_of = (
        pl.DataFrame({"campaign": camp, "ad": ad_names, "day": ads.day})
        .group_by("campaign", "ad")
        .agg(pl.col("day").max())
    )
    last_day_of = {(c, a): d for c, a, d in last_day_of.iter_rows()}
    for p, pname in enumerate(PLATFORMS):
        sel = np.flatnonzero(platform == p)
        o = sel[np.lexsort((camp[sel], ads.day[sel]))]
        for month, mask in _month_groups(ads.day[o]):
            r = o[mask]
            day_s = cal.fmt_day(pl.Series(ads.day[r]))
            spend = pl.Series(ads.spend[r])
            conv = ads.conversions[r]
            if pname == "meta":
                ad_of_rows = ad_names.gather(pl.Series(r.astype(np.int64)))
                status = np.where(
                    np.array([last_day_of[key] for key in zip(camp[r].tolist(), ad_of_rows)])
                    >= export_day - 1,
                    "active",
                    "inactive",
                )
                results = conv.astype(np.int64)
                frame = pl.DataFrame({"_d": day_s}).with_columns(
                    pl.col("_d").alias("Reporting starts"),
                    pl.col("_d").alias("Reporting ends"),
                    pl.col("_d").alias("Day"),
                    _gather(names, camp[r]).alias("Campaign name"),
                    _gather([c.group for c in CAMPAIGNS], camp[r]).alias("Ad set name"),
                    ad_of_rows.alias("Ad name"),
                    pl.Series(status.astype(str)).alias("Delivery status"),
                    money(spend).alias("Amount spent (USD)"),
                    pl.Series(ads.impressions[r]).cast(pl.String).alias("Impressions"),
                    pl.Series(ads.reach[r]).cast(pl.String).alias("Reach"),
                    pl.Series(np.char.mod("%.2f", ads.impressions[r] / ads.reach[r])).alias(
                        "Frequency"
                    ),
                    pl.Series(ads.clicks[r]).cast(pl.String).alias("Link clicks"),
                    pl.Series(results).cast(pl.String).alias("Results"),
                    lit_str("actions:offsite_conversion.fb_pixel_purchase").alias(
                        "Result indicator"
                    ),
                    pl.when(pl.Series(results > 0))
                    .then(money(pl.Series(np.round(ads.spend[r] / np.maximum(results, 1)))))
                    .alias("Cost per result"),
                    pl.Series(results).cast(pl.String).alias("Purchases"),
                    money(pl.Series(ads.value[r])).alias("Purchases conversion value"),
                )
                name = f"meta_ads/meta_ads_{month}.csv"
                if month == comma_month:
                    frame = _decimal_comma(frame, ads, r, results)
                    landing.write_csv(
                        name, frame, META_HEADER, separator=";", line_terminator="\r\n"
                    )
                    comma = {
                        "file": name,
                        "rows": int(r.size),
                        "spend_cents": int(ads.spend[r].sum()),
                        "spend_column": "Amount spent (USD)",
                    }
                else:
                    landing.write_csv(name, frame, META_HEADER)
            elif pname == "google":
                frame = _google_frame(r, ads, day_s)
                kinds = np.array([c.kind for c in CAMPAIGNS], dtype=object)[camp[r]]
                totals = [("Total: Account", np.ones(r.size, dtype=bool))]
                totals += [
                    (f"Total: {k}", kinds == k) for k in ("Search", "Shopping", "Performance Max")
                ]
                tot = []
                for label, m in totals:
                    tot.append(_google_total(label, ads, r[m]))
                frame = pl.concat([frame, pl.DataFrame(tot, schema=GOOGLE_HEADER, orient="row")])
                d_first = int(ads.day[r].min())
                d_last = int(ads.day[r].max())
                f, l_ = cal.to_date(d_first), cal.to_date(d_last)
                title = (
                    f'Campaign performance report\n"{MONTHS[f.month - 1]} {f.day}, {f.year} - '
                    f'{MONTHS[l_.month - 1]} {l_.day}, {l_.year}"\n'
                )
                landing.write_csv(
                    f"google_ads/google_ads_{month}.csv", frame, GOOGLE_HEADER, before=title
                )
            else:
                frame = pl.DataFrame({"By Day": day_s}).with_columns(
                    _gather(names, camp[r]).alias("Campaign name"),
                    _gather([c.group for c in CAMPAIGNS], camp[r]).alias("Ad group name"),
                    ad_names.gather(pl.Series(r.astype(np.int64))).alias("Ad name"),
                    lit_str("USD").alias("Currency"),
                    money(spend).alias("Cost"),
                    pl.Series(ads.impressions[r]).cast(pl.String).alias("Impressions"),
                    pl.Series(ads.clicks[r]).cast(pl.String).alias("Clicks (destination)"),
                    pl.Series(conv.astype(np.int64)).cast(pl.String).alias("Conversions"),
                    money(pl.Series(ads.value[r])).alias("Total complete payment value"),
                )
                landing.write_csv(f"tiktok_ads/tiktok_ads_{month}.csv", frame, TIKTOK_HEADER)
    return comma


def _decimal_comma(
    frame: pl.DataFrame, ads: AdRows, r: np.ndarray, results: np.ndarray
) -> pl.DataFrame:
    """The money and ratio columns of a Meta frame as a decimal-comma spreadsheet writes them."""
    return frame.with_columns(
        money_decimal_comma(pl.Series(ads.spend[r])).alias("Amount spent (USD)"),
        pl.Series(np.char.mod("%.2f", ads.impressions[r] / ads.reach[r]))
        .str.replace(".", ",", literal=True)
        .alias("Frequency"),
        pl.when(pl.Series(results > 0))
        .then(money_decimal_comma(pl.Series(np.round(ads.spend[r] / np.maximum(results, 1)))))
        .alias("Cost per result"),
        money_decimal_comma(pl.Series(ads.value[r])).alias("Purchases conversion value"),
    )


def _google_frame(r: np.ndarray, ads: AdRows, day_s: pl.Series) -> pl.DataFrame:
    spend, impr, clicks, conv = ads.spend[r], ads.impressions[r], ads.clicks[r], ads.conversions[r]
    ctr_bp = np.round(clicks / np.maximum(impr, 1) * 10000).astype(np.int64)  # basis points
    cpc = np.round(spend / np.maximum(clicks, 1)).astype(np.int64)
    cpa = np.where(conv > 0, np.round(spend / np.maximum(conv, 1e-9)), 0).astype(np.int64)
    conv_c = np.round(conv * 100).astype(np.int64)
    return pl.DataFrame(
        {
            "Day": day_s,
            "Campaign": _gather([c.name for c in CAMPAIGNS], ads.campaign[r]),
            "Ad group": _gather([c.group for c in CAMPAIGNS], ads.campaign[r]),
            "Currency code": pl.Series(["USD"] * r.size, dtype=pl.String),
        }
    ).with_columns(
        money_thousands(pl.Series(spend)).alias("Cost"),
        thousands(pl.Series(impr)).alias("Impr."),
        thousands(pl.Series(clicks)).alias("Clicks"),
        (money(pl.Series(ctr_bp)) + "%").alias("CTR"),
        money_thousands(pl.Series(cpc)).alias("Avg. CPC"),
        money_thousands(pl.Series(conv_c)).alias("Conversions"),
        money_thousands(pl.Series(ads.value[r])).alias("Conv. value"),
        money_thousands(pl.Series(cpa)).alias("Cost / conv."),
    )


def _google_total(label: str, ads: AdRows, r: np.ndarray) -> list[str]:
    spend, impr, clicks = (
        int(ads.spend[r].sum()),
        int(ads.impressions[r].sum()),
        int(ads.clicks[r].sum()),
    )
    conv = float(ads.conversions[r].sum())
    value = int(ads.value[r].sum())

    def fmt(cents: int) -> str:
        return f"{cents // 100:,}.{cents % 100:02d}"

    return [
        label,
        "--",
        "--",
        "USD",
        fmt(spend),
        f"{impr:,}",
        f"{clicks:,}",
        f"{clicks / max(impr, 1) * 100:.2f}%",
        fmt(round(spend / max(clicks, 1))),
        fmt(round(conv * 100)),
        fmt(value),
        fmt(round(spend / conv)) if conv > 0 else "0.00",
    ]
