"""Audience files: each platform's normalisation and SHA-256 against the examples the
vendors publish and hand-computed hashes, the segments, and what each file may carry."""

import hashlib
from datetime import date

import polars as pl
import pytest

from models.audiences import (
    CONTACT_COLUMNS,
    audience_files,
    build_segments,
    forgotten_row_keys,
    google_customer_match,
    klaviyo_list,
    manifest,
    meta_customer_list,
    normalise_city,
    normalise_country,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_state,
    normalise_zip,
    phone_e164,
    sha256_hex,
    tiktok_customer_file,
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- examples the vendors publish (input -> normalised -> SHA-256) ----------------------

def test_meta_published_examples():
    # developers.facebook.com .../conversions-api/parameters/customer-information-parameters
    assert normalise_email("John_Smith@gmail.com", "meta") == "john_smith@gmail.com"
    assert sha256_hex(normalise_email("John_Smith@gmail.com", "meta")) == (
        "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f")
    assert normalise_phone("(650)555-1212", "US", "meta") == "16505551212"
    assert sha256_hex(normalise_phone("(650)555-1212", "US", "meta")) == (
        "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
    assert sha256_hex(normalise_name("Mary", "meta")) == (
        "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec")
    assert normalise_name("Valéry", "meta") == "valéry"
    assert sha256_hex(normalise_name("Valéry", "meta")) == (
        "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c")
    assert sha256_hex(normalise_name("정", "meta")) == (
        "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14")
    assert sha256_hex(normalise_country("US")) == (
        "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")
    assert normalise_city("New York") == "newyork"
    assert normalise_zip("M1 1AE", "GB", "meta") == "m11ae"
    assert normalise_zip("94035-1234", "US", "meta") == "94035"
    # Marketing API custom audiences: hash("sha256", "mary@example.com")
    assert sha256_hex(normalise_email(" Mary@Example.com ", "meta")) == (
        "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79")


def test_tiktok_published_examples():
    # ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file
    assert normalise_phone("(657)777-0000", "US", "tiktok") == "16577770000"
    assert normalise_phone("374-93-828222", "AM", "tiktok") == "37493828222"
    # "how to create a custom audience with a customer file": janedoe@gmail.com
    assert sha256_hex(normalise_email("JaneDoe@gmail.com", "tiktok")) == (
        "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69")
    # "Remove '+' and any characters following the '+' symbol until '@'" (any domain)
    assert normalise_email("jane.doe+shop@example.com", "tiktok") == "jane.doe@example.com"


def test_google_published_examples():
    # developers.google.com/data-manager/api/devguides/concepts/formatting
    assert normalise_email("cloudy.sanfrancisco+shopping@gmail.com", "google") == (
        "cloudysanfrancisco@gmail.com")
    assert normalise_email("user.name+NYC@Example.com", "google") == "user.name+nyc@example.com"
    assert normalise_email(" J.Doe@GoogleMail.com", "google") == "jdoe@googlemail.com"
    assert normalise_phone("(800)555-0100", "US", "google") == "+18005550100"
    assert sha256_hex(normalise_phone("(800)555-0100", "US", "google")) == sha("+18005550100")
    assert normalise_name("Mrs. Jane", "google") == "jane"
    assert normalise_name(" Doe Jr.", "google", part="last") == "doe"
    assert normalise_zip("94303-5300", "US", "google") == "94303-5300"
    assert normalise_zip("WC2H 8LG", "GB", "google") == "WC2H 8LG"


# --- hand-computed ------------------------------------------------------------------------

def test_sha256_is_lowercase_hex_of_utf8_and_empty_stays_empty():
    assert sha256_hex("zoë@example.com") == sha("zoë@example.com")
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex("") == ""


def test_each_platform_normalises_the_same_address_its_own_way():
    email = "  Ann.Lee+news@Gmail.com "
    assert normalise_email(email, "meta") == "ann.lee+news@gmail.com"
    assert normalise_email(email, "google") == "annlee@gmail.com"
    assert normalise_email(email, "tiktok") == "ann.lee@gmail.com"
    assert normalise_email(email, "klaviyo") == "Ann.Lee+news@Gmail.com"


@pytest.mark.parametrize("bad", [None, "", "   ", "no-at-sign", "a@b", "two@@example.com", "@example.com"])
def test_missing_or_unusable_emails_become_empty(bad):
    for platform in ("meta", "google", "tiktok", "klaviyo"):
        assert normalise_email(bad, platform) == ""


@pytest.mark.parametrize(("raw", "country", "default", "expected"), [
    ("+44 20 7183 8750", None, None, "+442071838750"),
    ("020 7183 8750", "GB", None, "+442071838750"),       # trunk 0 dropped
    ("0044 20 7183 8750", "gb", None, "+442071838750"),   # international prefix 00
    ("447183875012", "GB", None, "+447183875012"),         # written with the code, no +
    ("06 1234 5678", "IT", None, "+390612345678"),         # Italy keeps the 0
    ("555-123-4567", None, "us", "+15551234567"),          # store's default country
    ("1 (555) 123-4567 ext. 89", "US", None, "+15551234567"),
    ("011 44 20 7183 8750", "US", None, "+442071838750"),
    ("030 123456", "DE", None, "+4930123456"),
    ("12345", "US", None, ""),                             # too short
    ("555-1234", None, None, ""),                          # no country to tell the code
    ("call me", "US", None, ""),
    (None, "US", None, ""),
])
def test_phone_to_e164(raw, country, default, expected):
    assert phone_e164(raw, country, default) == expected
    meta = normalise_phone(raw, country, "meta", default)
    assert meta == expected.removeprefix("+")
    assert normalise_phone(raw, country, "google", default) == expected


def test_names_cities_states_countries():
    assert normalise_name("  O'Brien-Smith ", "meta", part="last") == "o brien smith"
    assert normalise_name(None, "meta") == ""
    assert normalise_name("Zoë", "google") == "zoë"
    assert normalise_city("Saint-Étienne") == "saintétienne"
    assert normalise_state("Colorado", "US") == "co"
    assert normalise_state(" CO ", "us") == "co"
    assert normalise_state("Narnia", "US") == ""
    assert normalise_state("Île-de-France", "FR") == "îledefrance"
    assert normalise_country(" gb ") == "gb"
    assert normalise_country("United Kingdom") == ""
    assert normalise_zip("123", "US", "meta") == ""
    with pytest.raises(ValueError, match="unknown platform"):
        normalise_email("a@example.com", "snapchat")
    with pytest.raises(ValueError, match="meta and google only"):
        normalise_name("Ann", "tiktok")


# --- segments and files ------------------------------------------------------------------

AS_OF = date(2026, 6, 30)


def scores_frame() -> pl.DataFrame:
    rows = [
        # customer_id, segment, p_churn, value_tier, predicted_clv, days since last order
        ("c01", "high_value_at_risk", 0.70, "vip", 900.0, 80),
        ("c02", "high_value_at_risk", 0.60, "gold", 400.0, 70),
        ("c03", "active", 0.40, "vip", 800.0, 5),
        ("c04", "active", 0.10, "gold", 700.0, 2),
        ("c05", "active", 0.35, "silver", 600.0, 29),
        ("c06", "active", 0.05, "bronze", 50.0, 30),
        ("c07", "at_risk", 0.55, "bronze", 40.0, 90),
        ("c08", "lapsed", 0.95, "bronze", 0.0, 300),
        ("c09", "active", 0.20, "silver", 300.0, 10),
        ("c10", "active", 0.15, "bronze", 20.0, 0),
    ]
    return pl.DataFrame(rows, schema=["customer_id", "segment", "p_churn", "value_tier",
                                      "predicted_clv", "days"], orient="row").with_columns(
        (pl.lit(AS_OF) - pl.duration(days=pl.col("days"))).cast(pl.Date).alias("last_order_date"))


def contacts_frame() -> pl.DataFrame:
    rows = [
        (f"c{i:02d}", f"Person.{i}+x@Gmail.com", f"(303) 555-01{i:02d}" if i % 2 else None,
         f"First{i}", f"Last{i}", "80262", "Denver", "CO", "US", i % 3 != 0)
        for i in range(1, 11)
    ]
    frame = pl.DataFrame(rows, schema=list(CONTACT_COLUMNS), orient="row")
    # c10 has no email and no phone: it can be sent nowhere.
    return frame.with_columns(pl.when(pl.col("customer_id") == "c10").then(None)
                              .otherwise(pl.col("email")).alias("email"))


def test_segments_follow_their_rules():
    segments = build_segments(scores_frame(), as_of=AS_OF, recent_days=30)
    assert segments["win_back"]["customer_id"].to_list() == ["c01", "c02"]
    # active high-value (vip/gold or top 20% predicted value: c01, c03): c03, c04; the
    # riskiest quarter of them by p_churn is c03; never one already in win_back
    assert segments["at_risk_high_value"]["customer_id"].to_list() == ["c03"]
    assert segments["vip"]["customer_id"].to_list() == ["c01"]
    # last order 0..29 days before the as-of date; 30 days ago is outside the last 30 days
    assert set(segments["recent_buyers_suppress"]["customer_id"]) == {"c03", "c04", "c05", "c09", "c10"}
    seed = segments["lookalike_seed"]
    assert seed["customer_id"].to_list() == ["c01", "c03"]
    assert seed["value"].to_list() == [900.0, 800.0]
    with pytest.raises(ValueError, match="missing column"):
        build_segments(scores_frame().drop("p_churn"), as_of=AS_OF)


def test_ad_platform_files_hash_every_identifier_and_keep_missing_ones_empty():
    contacts = contacts_frame()
    segment = pl.DataFrame({"customer_id": ["c01", "c02", "c10"], "value": [900.0, 400.0, 1.0]})
    meta = meta_customer_list(segment, contacts, with_value=True)
    assert meta.columns == ["email", "phone", "fn", "ln", "zip", "ct", "st", "country", "value"]
    assert meta.height == 2  # c10: no email, no phone
    first = meta.row(0, named=True)
    assert first["email"] == sha("person.1+x@gmail.com")
    assert first["phone"] == sha("13035550101")
    assert first["fn"] == sha("first")  # digits are not part of a name for Meta
    assert first["zip"] == sha("80262") and first["ct"] == sha("denver")
    assert first["st"] == sha("co") and first["country"] == sha("us")
    assert first["value"] == 900.0
    assert meta.row(1, named=True)["phone"] == ""  # c02 has no phone: empty, not sha("")

    google = google_customer_match(segment, contacts)
    assert google.columns == ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]
    row = google.row(0, named=True)
    assert row["Email"] == sha("person1@gmail.com")
    assert row["Phone"] == sha("+13035550101")
    assert row["First Name"] == sha("first1") and row["Last Name"] == sha("last1")
    assert (row["Country"], row["Zip"]) == ("us", "80262")

    emails = tiktok_customer_file(segment, contacts, identifier="email")
    phones = tiktok_customer_file(segment, contacts, identifier="phone")
    assert emails.columns == ["Email_SHA256"] and phones.columns == ["Phone_SHA256"]
    assert emails["Email_SHA256"].to_list() == [sha("person.1@gmail.com"), sha("person.2@gmail.com")]
    assert phones["Phone_SHA256"].to_list() == [sha("13035550101")]

    plain = {v for c in contacts.columns for v in contacts[c].cast(pl.String).to_list() if v}
    for frame in (meta, google, emails, phones):
        cells = {v for c in frame.columns for v in frame[c].cast(pl.String).to_list()}
        assert not (cells & plain - {"80262"}), "a plain identifier in an ad-platform file"


def test_google_sends_no_plain_address_without_both_names():
    contacts = contacts_frame().with_columns(
        pl.when(pl.col("customer_id") == "c01").then(None).otherwise(pl.col("last_name"))
        .alias("last_name"))
    google = google_customer_match(pl.DataFrame({"customer_id": ["c01"], "value": [1.0]}), contacts)
    assert google.row(0, named=True)["Last Name"] == ""
    assert (google["Country"][0], google["Zip"][0]) == ("", "")


def test_klaviyo_list_holds_consenting_customers_only_in_plain():
    contacts = contacts_frame()
    segment = pl.DataFrame({"customer_id": [f"c{i:02d}" for i in range(1, 11)], "value": [0.0] * 10})
    klaviyo = klaviyo_list(segment, contacts)
    assert klaviyo.columns == ["Email", "First Name", "Last Name"]
    consenting = contacts.filter(pl.col("accepts_email_marketing") & pl.col("email").is_not_null())
    assert klaviyo["Email"].to_list() == consenting["email"].to_list()
    assert "Person.3+x@Gmail.com" not in klaviyo["Email"].to_list()  # 3 % 3 == 0: declined


def test_audience_files_and_manifest():
    files = audience_files(scores_frame(), contacts_frame(), as_of=AS_OF, default_country="us")
    names = [f.name for f in files]
    assert len(names) == len(set(names)) == 5 * 4 + 3
    assert {"meta_win_back.csv", "google_vip.csv", "tiktok_lookalike_seed_phone.csv",
            "klaviyo_at_risk_high_value.csv"} <= set(names)
    assert not any(n.startswith("klaviyo_") and "suppress" in n for n in names)
    by_name = {f.name: f for f in files}
    assert "value" in by_name["meta_lookalike_seed.csv"].frame.columns
    assert "value" not in by_name["meta_vip.csv"].frame.columns
    table = manifest(files)
    assert table["rows"].to_list() == [f.frame.height for f in files]
    assert table.filter(pl.col("file") == "meta_win_back.csv")["note"][0] == "under 100 rows, meta's minimum"
    assert not any("@" in v for c in ("match_keys", "built_from") for v in table[c])


def test_forgotten_row_keys_cover_every_platform_form():
    keys = forgotten_row_keys(" Ann.Lee+news@Gmail.com", "(303) 555-0101", "US")
    assert {sha("ann.lee+news@gmail.com"), sha("annlee@gmail.com"), sha("ann.lee@gmail.com"),
            sha("13035550101"), sha("+13035550101"), "ann.lee+news@gmail.com"} == keys
    assert "" not in forgotten_row_keys("ann@example.com")
