"""The people table: names, emails, addresses and phones of the simulated customers,
newsletter subscribers and the store's test account, shared by the orders, customers and
ticket exports."""

from __future__ import annotations

import numpy as np
import polars as pl

from orchestration.demo.customers import Customers
from orchestration.demo.names import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    INTL_CITIES,
    LAST_NAMES,
    STORE_DOMAIN,
    STREETS,
)
from orchestration.demo.writers.format import _gather, lit_str


def customer_table(
    customers: Customers,
    n_extra: int,
    rng: np.random.Generator,
    intl: np.ndarray | None = None,
) -> pl.DataFrame:
    """One row per simulated customer, then `n_extra` newsletter subscribers, then the
    store's own test account (last row). Customers marked in `intl` live in the
    international (VAT-inclusive) market: UK addresses and phone numbers."""
    n = customers.n
    first = np.concatenate([customers.first_name, rng.integers(0, len(FIRST_NAMES), n_extra), [0]])
    last = np.concatenate([customers.last_name, rng.integers(0, len(LAST_NAMES), n_extra), [0]])
    domain = np.concatenate([customers.email_domain, rng.integers(0, 3, n_extra), [0]])
    city = np.concatenate([customers.city, rng.integers(0, len(CITIES), n_extra), [0]])
    number = np.arange(1, n + n_extra + 2)
    first_s = _gather(FIRST_NAMES, first)
    last_s = _gather(LAST_NAMES, last)
    df = pl.DataFrame(
        {
            "first": first_s,
            "last": last_s,
            "number": number,
            "domain": _gather(EMAIL_DOMAINS, domain),
            "city_idx": city,
        }
    ).with_columns(
        (
            pl.col("first").str.to_lowercase()
            + "."
            + pl.col("last").str.to_lowercase()
            + pl.col("number").cast(pl.String)
            + "@"
            + pl.col("domain")
        ).alias("email")
    )
    test_email = f"test@{STORE_DOMAIN}"
    df = df.with_columns(
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str(test_email))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str("Store"))
        .otherwise(pl.col("first"))
        .alias("first"),
        pl.when(pl.int_range(pl.len()) == pl.len() - 1)
        .then(lit_str("Admin"))
        .otherwise(pl.col("last"))
        .alias("last"),
    )
    street_no = np.concatenate([customers.street_no, rng.integers(1, 9800, n_extra + 1)])
    street = np.concatenate([customers.street, rng.integers(0, len(STREETS), n_extra + 1)])
    apt = np.concatenate([customers.apartment, np.zeros(n_extra + 1, dtype=np.int64)])
    phone = np.concatenate([customers.phone, rng.integers(100, 200, n_extra + 1)])
    has_phone = np.concatenate([customers.has_phone, np.zeros(n_extra + 1, dtype=bool)])
    zip_tail = street_no % 100
    abroad = np.concatenate(
        [
            np.zeros(n, dtype=bool) if intl is None else np.asarray(intl, dtype=bool),
            np.zeros(n_extra + 1, dtype=bool),
        ]
    )
    weights = np.array([c[5] for c in INTL_CITIES], dtype=np.int64)
    slot = np.repeat(np.arange(len(INTL_CITIES)), weights)
    icity = slot[(street_no * 7 + street) % slot.size]
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    postcode_tail = (
        (street_no % 9 + 1).astype(str)
        + letters[street_no % letters.size]
        + letters[(street_no // 7) % letters.size]
    )
    uk = pl.DataFrame(
        {
            "u_city": _gather([c[0] for c in INTL_CITIES], icity),
            "u_zip": _gather([c[3] for c in INTL_CITIES], icity)
            + " "
            + pl.Series(postcode_tail.astype(str)),
            "u_phone": "+44 20 7946 0" + pl.Series(phone % 1000).cast(pl.String).str.zfill(3),
            "u_street": _gather(
                ["High Street", "Station Road", "Church Lane", "Mill Road"], street % 4
            ),
        }
    )
    return _abroad(
        df.with_columns(
            (pl.Series(street_no).cast(pl.String) + " " + _gather(STREETS, street)).alias(
                "address1"
            ),
            pl.when(pl.Series(apt) > 0)
            .then(lit_str("Apt ") + pl.Series(apt).cast(pl.String))
            .otherwise(lit_str(""))
            .alias("address2"),
            _gather([c[0] for c in CITIES], city).alias("city"),
            _gather([c[1] for c in CITIES], city).alias("province_code"),
            _gather([c[2] for c in CITIES], city).alias("province"),
            (
                _gather([c[3] for c in CITIES], city)
                + pl.Series(zip_tail).cast(pl.String).str.zfill(2)
            ).alias("zip"),
            pl.when(pl.Series(has_phone))
            .then(
                lit_str("+1")
                + (200 + pl.Series(city) * 37 % 700).cast(pl.String)
                + "55501"
                + (pl.Series(phone) % 100).cast(pl.String).str.zfill(2)
            )
            .otherwise(lit_str(""))
            .alias("phone"),
            (pl.col("first") + " " + pl.col("last")).alias("name"),
            lit_str("US").alias("country_code"),
            lit_str("United States").alias("country"),
        ),
        abroad,
        uk,
        street_no,
    )


def _abroad(
    df: pl.DataFrame, abroad: np.ndarray, uk: pl.DataFrame, street_no: np.ndarray
) -> pl.DataFrame:
    if not abroad.any():
        return df
    a = pl.Series(abroad)
    return (
        pl.concat([df, uk], how="horizontal")
        .with_columns(
            pl.when(a)
            .then(pl.Series(street_no % 200 + 1).cast(pl.String) + " " + pl.col("u_street"))
            .otherwise(pl.col("address1"))
            .alias("address1"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("address2")).alias("address2"),
            pl.when(a).then(pl.col("u_city")).otherwise(pl.col("city")).alias("city"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("province_code")).alias("province_code"),
            pl.when(a).then(lit_str("")).otherwise(pl.col("province")).alias("province"),
            pl.when(a).then(pl.col("u_zip")).otherwise(pl.col("zip")).alias("zip"),
            pl.when(a & (pl.col("phone") != ""))
            .then(pl.col("u_phone"))
            .otherwise(pl.col("phone"))
            .alias("phone"),
            pl.when(a).then(lit_str("GB")).otherwise(pl.col("country_code")).alias("country_code"),
            pl.when(a)
            .then(lit_str("United Kingdom"))
            .otherwise(pl.col("country"))
            .alias("country"),
        )
        .drop(uk.columns)
    )
