"""Audience files: customer segments in the upload formats of Meta custom audiences,
Google Customer Match and TikTok customer files (identifiers normalised as each platform
documents, then SHA-256), and a Klaviyo list import of consenting customers' emails.

Pure: plain values and polars frames in, polars frames out; writing the files is the
caller's (orchestration/defs/customers.py writes output/audiences/<as_of>/).

Vendor documents each rule follows (read 2026; cited again where a rule is applied):
- Meta: Custom Audiences, "Hashing and normalizing data"
  https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
  and the same normalisation, with published input -> SHA-256 examples, in
  https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
  (em, ph, fn, ln, ct, st, zp, country); the customer-file column headers (email, phone,
  fn, ln, zip, ct, st, country, value) from the Business Help Centre article "How to
  format a customer list when creating a custom audience"
  https://www.facebook.com/business/help/2082575038703844
- Google: Customer Match file headers (Email, Phone, First Name, Last Name, Country, Zip)
  https://support.google.com/google-ads/answer/7659867 and hashed-upload guidelines
  https://support.google.com/google-ads/answer/7476159; the normalisation of each
  identifier from the Data Manager API's "Format user data"
  https://developers.google.com/data-manager/api/devguides/concepts/formatting
  (the successor Google names for Customer Match uploads from the Google Ads API).
- TikTok: "List of supported IDs and formats for a customer file" (last updated August
  2025) https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file
- Klaviyo: "How to upload and segment with consent"
  https://help.klaviyo.com/hc/en-us/articles/360043841811 and "Create and add contacts to
  a new list" https://help.klaviyo.com/hc/en-us/articles/115005078967
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import polars as pl

PLATFORMS = ("meta", "google", "tiktok")
SEGMENTS = ("win_back", "at_risk_high_value", "vip", "recent_buyers_suppress", "lookalike_seed")
# Segments sent to the email tool too (a suppression list or a lookalike seed is no mailing).
EMAIL_SEGMENTS = ("win_back", "at_risk_high_value", "vip")
RECENT_BUYER_DAYS = 30
VIP_SHARE = 0.10
SEED_SHARE = 0.20
HIGH_VALUE_SHARE = 0.20
AT_RISK_QUANTILE = 0.75
# The smallest list each platform serves or accepts, said in the manifest, not enforced:
# Meta asks for at least 100 people (help article above), TikTok's customer file needs
# 1,000 entries ("How to create a Custom Audience with a customer file"); Google's 1,000
# matched users before a Customer Match list serves is from third-party guides, not
# confirmed in Google's own pages.
PLATFORM_MINIMUM = {"meta": 100, "google": 1000, "tiktok": 1000}

CONTACT_COLUMNS = ("customer_id", "email", "phone", "first_name", "last_name", "zip", "city",
                   "state", "country_code", "accepts_email_marketing")

# ITU-T E.164 country calling codes (ITU's list of assigned codes) for the countries a
# store is likely to ship to; a number of another country is usable only when written
# with its calling code (+ or 00).
CALLING_CODES = {
    "us": "1", "ca": "1", "pr": "1", "gb": "44", "ie": "353", "au": "61", "nz": "64",
    "de": "49", "at": "43", "ch": "41", "fr": "33", "be": "32", "nl": "31", "lu": "352",
    "es": "34", "pt": "351", "it": "39", "dk": "45", "se": "46", "no": "47", "fi": "358",
    "is": "354", "pl": "48", "cz": "420", "sk": "421", "hu": "36", "ro": "40", "bg": "359",
    "gr": "30", "hr": "385", "si": "386", "ee": "372", "lv": "371", "lt": "370", "mt": "356",
    "cy": "357", "mx": "52", "br": "55", "ar": "54", "cl": "56", "co": "57", "pe": "51",
    "za": "27", "il": "972", "ae": "971", "sa": "966", "tr": "90", "in": "91", "sg": "65",
    "am": "374", "hk": "852", "jp": "81", "kr": "82", "cn": "86", "tw": "886", "my": "60", "ph": "63",
    "th": "66", "id": "62", "vn": "84",
}
# Countries whose national numbers keep their leading 0 after the calling code (Italy's
# landlines: +39 06 ...); everywhere else in the table a leading 0 is the trunk prefix.
KEEPS_LEADING_ZERO = {"it", "sm", "va"}
US_STATES = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "district of columbia": "dc",
    "florida": "fl", "georgia": "ga", "hawaii": "hi", "idaho": "id", "illinois": "il",
    "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi",
    "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "new hampshire": "nh", "new jersey": "nj",
    "new mexico": "nm", "new york": "ny", "north carolina": "nc", "north dakota": "nd",
    "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa",
    "rhode island": "ri", "south carolina": "sc", "south dakota": "sd", "tennessee": "tn",
    "texas": "tx", "utah": "ut", "vermont": "vt", "virginia": "va", "washington": "wa",
    "west virginia": "wv", "wisconsin": "wi", "wyoming": "wy",
}
_NAME_PREFIXES = re.compile(r"^(?:mr|mrs|ms|miss|mx|dr)\.?\s+")
_NAME_SUFFIXES = re.compile(r"[\s,]+(?:jr|sr|ii|iii|iv)\.?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(value: object) -> str:
    return "" if value is None else str(value)


def sha256_hex(value: str) -> str:
    """SHA-256 of the UTF-8 bytes of `value` as 64 lowercase hex characters, or "" for an
    empty value (a missing identifier stays empty: the hash of "" would match nobody and
    tell the platform the field was sent).

    Meta, Google and TikTok all take SHA-256 in lowercase hex (Meta's examples:
    "mary@example.com" -> f1904cf1...; Google's Data Manager API accepts hex or Base64).
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest() if value else ""


def normalise_email(email: str | None, platform: str) -> str:
    """An email address as `platform` ("meta", "google", "tiktok", "klaviyo") wants it
    before hashing, or "" when it is missing or not an address.

    - all: leading and trailing whitespace trimmed, lower case.
    - meta: nothing more ("Trim any leading and trailing spaces. Convert all characters to
      lowercase.", customer information parameters, em).
    - google: intermediate whitespace removed too; for gmail.com and googlemail.com only,
      every "." before the @ removed and a "+" with all that follows it in the local part
      removed (Data Manager API "Format user data", email_address:
      cloudy.sanfrancisco+shopping@gmail.com -> cloudysanfrancisco@gmail.com; other
      domains keep dots and plus signs).
    - tiktok: "Remove '+' and any characters following the '+' symbol until '@'" (any
      domain; TikTok's supported IDs and formats, Email).
    - klaviyo: trimmed only (a plain address to mail; Klaviyo matches profiles by it).
    Raises ValueError for an unknown platform.
    """
    if platform not in (*PLATFORMS, "klaviyo"):
        raise ValueError(f"unknown platform {platform!r}: use one of {PLATFORMS + ('klaviyo',)}")
    text = _text(email).strip()
    if platform == "google":
        text = re.sub(r"\s+", "", text)
    if not _EMAIL.match(text):
        return ""
    if platform == "klaviyo":
        return text
    text = text.lower()
    local, domain = text.rsplit("@", 1)
    if platform == "google" and domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
    elif platform == "tiktok":
        local = local.split("+", 1)[0]
    return f"{local}@{domain}" if local else ""


def phone_e164(phone: str | None, country: str | None, default_country: str | None = None) -> str:
    """A phone number in E.164 ("+" then 8 to 15 digits, country calling code first), or ""
    when it cannot be made one.

    A number written with "+" (or the international prefix 00, 011 in North America)
    already carries its calling code; otherwise the calling code of the customer's country
    (ISO 3166-1 alpha-2, any case), else of `default_country`, is put in front: a leading 0
    (the trunk prefix) is dropped first, except in Italy, where it is part of the number;
    a North American number has 10 digits, or 11 starting with 1; a number that already
    begins with the country's calling code followed by at least 8 digits is
    taken as written with it. Extensions ("x12", "ext. 12") are dropped, as are letters and
    punctuation. A country without a known calling code gives "" for a national number.
    """
    text = re.split(r"(?i)\s*(?:ext\.?|x)\s*\d+\s*$", _text(phone).strip())[0]
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    country_code = normalise_country(country) or normalise_country(default_country)
    calling = CALLING_CODES.get(country_code)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("011") and calling == "1":
        number = digits[3:]
    elif digits.startswith("00"):
        number = digits[2:]
    elif calling is None:
        return ""
    elif calling == "1":
        number = digits if len(digits) == 11 and digits.startswith("1") else (
            "1" + digits if len(digits) == 10 else "")
    elif digits.startswith("0") and country_code not in KEEPS_LEADING_ZERO:
        number = calling + digits[1:]
    elif digits.startswith(calling) and len(digits) >= len(calling) + 8:
        number = digits
    else:
        number = calling + digits
    if not 8 <= len(number) <= 15 or number.startswith("0"):
        return ""
    return "+" + number


def normalise_phone(phone: str | None, country: str | None, platform: str,
                    default_country: str | None = None) -> str:
    """A phone number as `platform` wants it before hashing, or "" (see `phone_e164`).

    - google: E.164 with the plus sign: "+18005550100" (Data Manager API "Format user
      data", phone_number: "Include the plus sign (+) and the country code").
    - meta: digits only with the country code, no "+": "16505551212" ("Remove symbols,
      letters, and any leading zeros. Phone numbers must include a country code",
      customer information parameters, ph; their example (650)555-1212 -> 16505551212).
    - tiktok: the same digits: "Remove symbols, including "+" sign ... Add country code if
      missing, even in the US" ((657)777-0000 -> 16577770000; TikTok's page of August
      2025; its earlier version asked for E.164 with "+").
    Raises ValueError for an unknown platform.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}: use one of {PLATFORMS}")
    number = phone_e164(phone, country, default_country)
    return number if platform == "google" or not number else number[1:]


def normalise_name(name: str | None, platform: str, *, part: str = "first") -> str:
    """A first (`part="first"`) or last (`part="last"`) name as `platform` wants it before
    hashing, or "".

    - meta: lower case with no punctuation; letters outside a-z kept in UTF-8 ("Valéry" ->
      "valéry", customer information parameters, fn/ln); digits and symbols dropped,
      inner spaces kept single (Meta's text does not say; a double name stays two words).
    - google: lower case, leading and trailing whitespace trimmed, without prefixes
      ("Mrs.") or suffixes ("Jr."; Data Manager API, given_name / family_name).
    TikTok's customer file takes no names. Raises ValueError for another platform or part.
    """
    if platform not in ("meta", "google"):
        raise ValueError(f"names are sent to meta and google only, not {platform!r}")
    if part not in ("first", "last"):
        raise ValueError(f"part must be 'first' or 'last', not {part!r}")
    text = unicodedata.normalize("NFC", _text(name)).strip().lower()
    if platform == "google":
        text = _NAME_PREFIXES.sub("", text) if part == "first" else _NAME_SUFFIXES.sub("", text)
        return text.strip()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LM" else " " for ch in text)
    return " ".join(kept.split())


def normalise_country(country: str | None) -> str:
    """An ISO 3166-1 alpha-2 code in lower case ("US" -> "us"), or "" when the value is not
    two letters. Meta hashes it ("Use the lowercase, 2-letter country codes in ISO 3166-1
    alpha-2", country); Google sends it in plain (region_code: "Don't hash")."""
    text = _text(country).strip().lower()
    return text if re.fullmatch(r"[a-z]{2}", text) else ""


def normalise_zip(zip_code: str | None, country: str | None, platform: str) -> str:
    """A postal code as `platform` wants it, or "".

    - meta (hashed): lower case with no spaces and no dash; a U.S. zip code's first 5
      digits ("Use only the first 5 digits for U.S. zip codes", zp; UK "M1 1AE" -> "m11ae").
    - google (plain, not hashed): U.S. 5 digits or 5+4 ("94303-5300"); elsewhere the code
      as written, trimmed (Data Manager API, postal_code; Google keeps extensions out for
      other countries, which storeops cannot tell apart and leaves to the store's data).
    A U.S. code with fewer than 5 digits gives "". Raises ValueError for another platform.
    """
    if platform not in ("meta", "google"):
        raise ValueError(f"postal codes are sent to meta and google only, not {platform!r}")
    text = _text(zip_code).strip()
    if normalise_country(country) == "us":
        digits = re.sub(r"\D", "", text)
        if len(digits) < 5:
            return ""
        if platform == "google" and len(digits) >= 9:
            return f"{digits[:5]}-{digits[5:9]}"
        return digits[:5]
    if platform == "meta":
        return re.sub(r"[\s-]", "", text.lower())
    return text


def normalise_city(city: str | None) -> str:
    """A city as Meta hashes it (ct): lower case, "no punctuation, no special characters,
    and no spaces" ("New York" -> "newyork"); letters outside a-z kept in UTF-8."""
    text = unicodedata.normalize("NFC", _text(city)).strip().lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LM")


def normalise_state(state: str | None, country: str | None) -> str:
    """A state or province as Meta hashes it (st): U.S. states as the 2-character ANSI
    abbreviation in lower case ("Colorado" or "CO" -> "co"); elsewhere lower case with no
    punctuation, no special characters and no spaces. A U.S. value that is neither a
    state's name nor a 2-letter code gives ""."""
    text = unicodedata.normalize("NFC", _text(state)).strip().lower()
    if normalise_country(country) == "us":
        spaced = " ".join(re.sub(r"[^a-z ]", " ", text).split())
        if re.fullmatch(r"[a-z]{2}", spaced):
            return spaced
        return US_STATES.get(spaced, "")
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LM")


# ---------------------------------------------------------------------------- segments

def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")


def _top_share(scores: pl.DataFrame, share: float) -> pl.DataFrame:
    """Customers with a positive predicted value in the top `share` of all scored ones
    (at least one when any has value), highest first; ties broken by customer_id."""
    ranked = scores.filter(pl.col("predicted_clv") > 0).sort(
        ["predicted_clv", "customer_id"], descending=[True, False])
    n = max(1, round(scores.height * share)) if ranked.height else 0
    return ranked.head(n)


def win_back(scores: pl.DataFrame) -> pl.DataFrame:
    """High-value customers already overdue on their own rhythm: churn segment
    `high_value_at_risk` (models.churn: at risk and VIP/gold or top-20% predicted value),
    most predicted value first. scores: analytics.churn_scores (customer_id, segment,
    predicted_clv). Returns customer_id, value (predicted 12-month net revenue)."""
    _require(scores, "scores", ("customer_id", "segment", "predicted_clv"))
    return (scores.filter(pl.col("segment") == "high_value_at_risk")
            .sort(["predicted_clv", "customer_id"], descending=[True, False])
            .select("customer_id", pl.col("predicted_clv").alias("value")))


def at_risk_high_value(scores: pl.DataFrame, *, top_share: float = HIGH_VALUE_SHARE,
                       risk_quantile: float = AT_RISK_QUANTILE) -> pl.DataFrame:
    """High-value customers most likely to churn who are not overdue yet, to keep before
    they lapse: segment `active`, value tier vip/gold or predicted value in the top
    `top_share`, and p_churn at or above the `risk_quantile` quantile of those customers'
    p_churn (by default their riskiest quarter). A quantile, not a fixed 0.5: the churn
    model puts p_churn >= 0.5 together with being overdue, which is win_back's segment;
    the two segments do not overlap. scores: customer_id, segment, p_churn, value_tier,
    predicted_clv. Returns customer_id, value (predicted 12-month net revenue), riskiest
    first."""
    _require(scores, "scores", ("customer_id", "segment", "p_churn", "value_tier", "predicted_clv"))
    top = _top_share(scores, top_share)["customer_id"].to_list()
    high_value = scores.filter((pl.col("segment") == "active") & (
        pl.col("value_tier").is_in(["vip", "gold"]) | pl.col("customer_id").is_in(top)))
    if high_value.is_empty():
        return high_value.select("customer_id", pl.col("predicted_clv").alias("value"))
    threshold = high_value["p_churn"].quantile(risk_quantile, interpolation="higher")
    return (high_value.filter((pl.col("p_churn") >= threshold) & (pl.col("p_churn") > 0))
            .sort(["p_churn", "customer_id"], descending=[True, False])
            .select("customer_id", pl.col("predicted_clv").alias("value")))


def vip(scores: pl.DataFrame, *, share: float = VIP_SHARE) -> pl.DataFrame:
    """The top `share` (default the top decile) of scored customers by predicted 12-month
    value, lapsed customers left out. Returns customer_id, value."""
    _require(scores, "scores", ("customer_id", "segment", "predicted_clv"))
    return (_top_share(scores, share).filter(pl.col("segment") != "lapsed")
            .select("customer_id", pl.col("predicted_clv").alias("value")))


def recent_buyers_suppress(scores: pl.DataFrame, *, as_of: date,
                           days: int = RECENT_BUYER_DAYS) -> pl.DataFrame:
    """Customers whose last order is less than `days` days before `as_of` (bought in the
    last `days` days, as_of included): to exclude from prospecting and win-back campaigns.
    scores: customer_id, last_order_date. Returns customer_id, value (null)."""
    _require(scores, "scores", ("customer_id", "last_order_date"))
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    since = pl.lit(as_of) - pl.duration(days=days - 1)
    return (scores.filter(pl.col("last_order_date").is_between(since, pl.lit(as_of)))
            .sort(["last_order_date", "customer_id"], descending=[True, False])
            .select("customer_id", pl.lit(None, dtype=pl.Float64).alias("value")))


def lookalike_seed(scores: pl.DataFrame, *, share: float = SEED_SHARE) -> pl.DataFrame:
    """The top `share` of scored customers by predicted 12-month value, each with that
    value (store currency, 2 decimals) for Meta's value-based custom audience `value`
    column, from which a value-based lookalike is built. Returns customer_id, value."""
    _require(scores, "scores", ("customer_id", "predicted_clv"))
    return _top_share(scores, share).select(
        "customer_id", pl.col("predicted_clv").round(2).alias("value"))


def build_segments(scores: pl.DataFrame, *, as_of: date,
                   recent_days: int = RECENT_BUYER_DAYS) -> dict[str, pl.DataFrame]:
    """Every segment of SEGMENTS from analytics.churn_scores as of `as_of`: name ->
    frame of customer_id, value (see each segment's function)."""
    return {
        "win_back": win_back(scores),
        "at_risk_high_value": at_risk_high_value(scores),
        "vip": vip(scores),
        "recent_buyers_suppress": recent_buyers_suppress(scores, as_of=as_of, days=recent_days),
        "lookalike_seed": lookalike_seed(scores),
    }


# ---------------------------------------------------------------------------- formats

def _members(segment: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    _require(contacts, "contacts", CONTACT_COLUMNS)
    return segment.join(contacts, on="customer_id", how="inner", maintain_order="left")


def _column(frame: pl.DataFrame, function, *columns: str, **options) -> pl.Series:
    rows = zip(*(frame[c].to_list() for c in columns), strict=True)
    return pl.Series([function(*values, **options) for values in rows], dtype=pl.String)


def _hashed(values: pl.Series) -> pl.Series:
    return values.map_elements(sha256_hex, return_dtype=pl.String)


def meta_customer_list(segment: pl.DataFrame, contacts: pl.DataFrame, *,
                       default_country: str | None = None, with_value: bool = False) -> pl.DataFrame:
    """Meta custom audience customer list: columns email, phone, fn, ln, zip, ct, st,
    country (+ value), every identifier normalised as Meta documents and SHA-256 hashed
    (Meta hashes all of them, country included), "" where unknown.

    segment: customer_id, value; contacts: CONTACT_COLUMNS (plain, warehouse only).
    with_value adds `value`, the customer value column of a value-based custom audience
    (a non-negative number; Meta's value-based lookalike source). The `value` header is
    not confirmed in the Meta pages found (the help article lists the identifiers only). A customer with
    neither an email nor a phone is left out. Headers: Meta's customer-file template
    (help article 2082575038703844)."""
    rows = _members(segment, contacts)
    country = rows["country_code"].fill_null(default_country or "")
    frame = pl.DataFrame({
        "email": _hashed(_column(rows, normalise_email, "email", platform="meta")),
        "phone": _hashed(_column(rows, lambda p, c: normalise_phone(
            p, c, "meta", default_country), "phone", "country_code")),
        "fn": _hashed(_column(rows, normalise_name, "first_name", platform="meta")),
        "ln": _hashed(_column(rows, normalise_name, "last_name", platform="meta", part="last")),
        "zip": _hashed(_column(rows.with_columns(country), normalise_zip, "zip", "country_code",
                               platform="meta")),
        "ct": _hashed(_column(rows, normalise_city, "city")),
        "st": _hashed(_column(rows.with_columns(country), normalise_state, "state", "country_code")),
        "country": _hashed(_column(rows.with_columns(country), normalise_country, "country_code")),
    })
    if with_value:
        frame = frame.with_columns(rows["value"].fill_null(0).clip(0).round(2).alias("value"))
    return frame.filter((pl.col("email") != "") | (pl.col("phone") != ""))


def google_customer_match(segment: pl.DataFrame, contacts: pl.DataFrame, *,
                          default_country: str | None = None) -> pl.DataFrame:
    """Google Ads Customer Match file: columns Email, Phone, First Name, Last Name,
    Country, Zip (Google's template). Email, Phone, First Name and Last Name normalised as
    the Data Manager API documents and SHA-256 hashed; Country (ISO alpha-2) and Zip in
    plain, as Google requires ("Don't hash" region_code and postal_code). Country and Zip
    are sent only with both names (Google matches an address on first name, last name,
    country and zip together), so a row never carries a lone plain postcode.
    A customer with neither an email nor a phone is left out."""
    rows = _members(segment, contacts)
    country = rows["country_code"].fill_null(default_country or "")
    first = _column(rows, normalise_name, "first_name", platform="google")
    last = _column(rows, normalise_name, "last_name", platform="google", part="last")
    has_names = (first != "") & (last != "")
    country_plain = _column(rows.with_columns(country), normalise_country, "country_code")
    zip_plain = _column(rows.with_columns(country), normalise_zip, "zip", "country_code",
                        platform="google")
    frame = pl.DataFrame({
        "Email": _hashed(_column(rows, normalise_email, "email", platform="google")),
        "Phone": _hashed(_column(rows, lambda p, c: normalise_phone(
            p, c, "google", default_country), "phone", "country_code")),
        "First Name": _hashed(first),
        "Last Name": _hashed(last),
        "Country": pl.Series([c if ok else "" for c, ok in zip(country_plain, has_names, strict=True)],
                             dtype=pl.String),
        "Zip": pl.Series([z if ok else "" for z, ok in zip(zip_plain, has_names, strict=True)],
                         dtype=pl.String),
    })
    return frame.filter((pl.col("Email") != "") | (pl.col("Phone") != ""))


def tiktok_customer_file(segment: pl.DataFrame, contacts: pl.DataFrame, *, identifier: str,
                         default_country: str | None = None) -> pl.DataFrame:
    """TikTok customer file of one identifier type, one hashed ID per line: header
    `Email_SHA256` (identifier="email") or `Phone_SHA256` (identifier="phone"), the
    "Required header description" of TikTok's supported IDs and formats. One type per
    file: TikTok's pages differ on mixing types (the 2025 list allows several headers per
    file, the how-to asks for one line per ID), and a single-type file is valid under both.
    Empty identifiers and repeats are left out. Raises ValueError for another identifier."""
    rows = _members(segment, contacts)
    if identifier == "email":
        values, header = _column(rows, normalise_email, "email", platform="tiktok"), "Email_SHA256"
    elif identifier == "phone":
        values = _column(rows, lambda p, c: normalise_phone(p, c, "tiktok", default_country),
                         "phone", "country_code")
        header = "Phone_SHA256"
    else:
        raise ValueError(f"identifier must be 'email' or 'phone', not {identifier!r}")
    hashed = _hashed(values)
    return pl.DataFrame({header: hashed}).filter(pl.col(header) != "").unique(maintain_order=True)


def klaviyo_list(segment: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """Klaviyo list import: Email (first column, as Klaviyo asks), First Name, Last Name
    (Klaviyo's own property names), plain, for customers with accepts_email_marketing true
    only: Klaviyo imports only opted-in subscribers ("Does my list include only opted-in
    subscribers", list upload guidelines). A customer without a valid email, or whose
    consent is false or unknown, is left out."""
    rows = _members(segment, contacts).filter(pl.col("accepts_email_marketing").fill_null(False))
    frame = pl.DataFrame({
        "Email": _column(rows, normalise_email, "email", platform="klaviyo"),
        "First Name": rows["first_name"].cast(pl.String).fill_null("").str.strip_chars(),
        "Last Name": rows["last_name"].cast(pl.String).fill_null("").str.strip_chars(),
    }, schema={"Email": pl.String, "First Name": pl.String, "Last Name": pl.String})
    return frame.filter(pl.col("Email") != "").unique("Email", maintain_order=True)


@dataclass(frozen=True)
class AudienceFile:
    """One file of output/audiences/<as_of>/: its name, segment, platform, the match keys
    it carries, how it was built (words, no personal data) and its rows."""
    name: str
    segment: str
    platform: str
    match_keys: str
    built_from: str
    frame: pl.DataFrame


SEGMENT_RULES = {
    "win_back": "churn segment high_value_at_risk (overdue on their own rhythm, p_churn >= 0.5, "
                "VIP/gold or top-20% predicted value)",
    "at_risk_high_value": "segment active (not overdue yet), VIP/gold or top-20% predicted value, "
                          f"p_churn in that group's riskiest {1 - AT_RISK_QUANTILE:.0%}",
    "vip": f"top {VIP_SHARE:.0%} of customers by predicted 12-month value, lapsed left out",
    "recent_buyers_suppress": "last order in the last {days} days: exclude from prospecting",
    "lookalike_seed": f"top {SEED_SHARE:.0%} by predicted 12-month value, value = predicted "
                      "12-month net revenue",
}


def audience_files(scores: pl.DataFrame, contacts: pl.DataFrame, *, as_of: date,
                   default_country: str | None = None,
                   recent_days: int = RECENT_BUYER_DAYS) -> list[AudienceFile]:
    """Every audience file for `as_of`: per segment of SEGMENTS, `meta_<segment>.csv`
    (with `value` for lookalike_seed), `google_<segment>.csv`,
    `tiktok_<segment>_email.csv` and `tiktok_<segment>_phone.csv`; per segment of
    EMAIL_SEGMENTS, `klaviyo_<segment>.csv` (plain emails of consenting customers).

    scores: analytics.churn_scores (customer_id, p_churn, predicted_clv, segment,
    value_tier, last_order_date); contacts: CONTACT_COLUMNS, one row per customer_id;
    default_country: ISO alpha-2 used for a phone or address without a country.
    Raises ValueError naming a missing column."""
    _require(contacts, "contacts", CONTACT_COLUMNS)
    contacts = contacts.unique("customer_id", keep="first", maintain_order=True)
    files: list[AudienceFile] = []
    for segment, members in build_segments(scores, as_of=as_of, recent_days=recent_days).items():
        rule = SEGMENT_RULES[segment].format(days=recent_days)
        with_value = segment == "lookalike_seed"
        files += [
            AudienceFile(f"meta_{segment}.csv", segment, "meta",
                         "email, phone, fn, ln, zip, ct, st, country (SHA-256)"
                         + ("; value (plain)" if with_value else ""), rule,
                         meta_customer_list(members, contacts, default_country=default_country,
                                            with_value=with_value)),
            AudienceFile(f"google_{segment}.csv", segment, "google",
                         "Email, Phone, First Name, Last Name (SHA-256); Country, Zip (plain)", rule,
                         google_customer_match(members, contacts, default_country=default_country)),
            AudienceFile(f"tiktok_{segment}_email.csv", segment, "tiktok", "Email_SHA256", rule,
                         tiktok_customer_file(members, contacts, identifier="email",
                                              default_country=default_country)),
            AudienceFile(f"tiktok_{segment}_phone.csv", segment, "tiktok", "Phone_SHA256", rule,
                         tiktok_customer_file(members, contacts, identifier="phone",
                                              default_country=default_country)),
        ]
        if segment in EMAIL_SEGMENTS:
            files.append(AudienceFile(
                f"klaviyo_{segment}.csv", segment, "klaviyo",
                "Email, First Name, Last Name (plain)",
                rule + "; only customers who accepted email marketing",
                klaviyo_list(members, contacts)))
    return files


def manifest(files: list[AudienceFile]) -> pl.DataFrame:
    """One row per file: file, segment, platform, rows, match_keys, built_from and a note
    when the file is under the platform's smallest usable list (PLATFORM_MINIMUM)."""
    return pl.DataFrame({
        "file": [f.name for f in files],
        "segment": [f.segment for f in files],
        "platform": [f.platform for f in files],
        "rows": [f.frame.height for f in files],
        "match_keys": [f.match_keys for f in files],
        "built_from": [f.built_from for f in files],
        "note": [f"under {PLATFORM_MINIMUM[f.platform]:,} rows, {f.platform}'s minimum"
                 if f.frame.height < PLATFORM_MINIMUM.get(f.platform, 0) else "" for f in files],
    }, schema={"file": pl.String, "segment": pl.String, "platform": pl.String,
               "rows": pl.Int64, "match_keys": pl.String, "built_from": pl.String,
               "note": pl.String})


def forgotten_row_keys(email: str, phone: str | None = None, country: str | None = None,
                       default_country: str | None = None) -> set[str]:
    """Every value under which one customer can appear in an audience file: the SHA-256
    of their email as each platform normalises it, of their phone in each platform's form,
    and the plain email of the Klaviyo list (normalised as Klaviyo's, lower-cased by the
    caller's comparison). For `storeops forget`."""
    keys = {sha256_hex(normalise_email(email, p)) for p in PLATFORMS}
    keys |= {sha256_hex(normalise_phone(phone, country, p, default_country)) for p in PLATFORMS}
    keys.add(normalise_email(email, "klaviyo").lower())
    return keys - {""}
