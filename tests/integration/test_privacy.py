"""Privacy: no raw personal data in any file under output/, and `storeops forget` removes
one customer from raw and derived tables and the contact lists, for good."""

import csv
import hashlib
import re
import zipfile

import duckdb
import pytest
from typer.testing import CliRunner

from models.audiences import forgotten_row_keys
from tests.stores import copy_store

pytestmark = pytest.mark.integration
# An address with a letters-only top-level domain (plotly.js carries "name@1.2.3" versions).
EMAIL = re.compile(rb"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")


@pytest.fixture(scope="module")
def store(long_history_store):
    """The shared long-history store (tests/stores.py), read only."""
    return long_history_store


def output_bytes(settings):
    for path in sorted(p for p in settings.output_dir.rglob("*") if p.is_file()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                yield path, b"".join(book.read(n) for n in book.namelist() if n.endswith(".xml"))
        else:
            yield path, path.read_bytes()


def test_no_personal_data_in_any_output_file(store):
    with duckdb.connect(str(store.warehouse_path), read_only=True) as con:
        people = con.execute("""
            select distinct first_name || ' ' || last_name, phone, address1 from raw.shopify_customers
            where first_name is not null and last_name is not null limit 300
        """).fetchall()
        emails = {r[0].strip().lower().encode() for r in con.execute("""
            select email from raw.shopify_orders where email is not null
            union select email from raw.shopify_customers where email is not null
            union select requester_email from raw.zendesk_tickets where requester_email is not null
            union select customer_email from raw.gorgias_tickets where customer_email is not null
        """).fetchall()}
    assert len(emails) > 100
    names = {n.encode() for n, _, _ in people}
    streets = {a.encode() for _, _, a in people if a and len(a) > 8}
    phones = {re.sub(r"\D", "", p).encode() for _, p, _ in people if p and len(re.sub(r"\D", "", p)) >= 9}
    files = list(output_bytes(store))
    assert len(files) > 10  # reorder files, customer lists, briefs, reports, dashboards, index
    for path, data in files:
        if path.parent.parent.name == "audiences" and path.name.startswith("klaviyo_"):
            # The one exception (DESIGN.md): the email tool's list of consenting customers;
            # tests/integration/test_customer_assets.py checks who is on it.
            continue
        # plotly.js's licence header carries its authors' addresses: look for customers'.
        found = {m.lower() for m in EMAIL.findall(data)} & emails
        assert not found, f"customer email addresses in {path}: {sorted(found)[:3]}"
        assert not any(name in data for name in names), f"a customer's name in {path}"
        assert not any(street in data for street in streets), f"a customer's address in {path}"
        digits = re.sub(rb"\D", b"", data)
        if path.parent.parent.name == "audiences":
            # SHA-256 hex runs into digits of its own: compare phones cell by cell.
            cells = {re.sub(rb"\D", b"", c) for c in re.split(rb"[,\n]", data)}
            assert not cells & phones, f"a phone in {path}"
        elif path.suffix in (".csv", ".md"):  # html/xlsx carry long digit runs of their own
            assert not any(phone in digits for phone in phones), f"a phone in {path}"


def varchar_hits(settings, needles):
    hits = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema in "
            "('raw', 'staging', 'intermediate', 'marts', 'analytics')").fetchall()
        for schema, table, column in columns:
            if (schema, table) == ("raw", "forgotten_customers"):
                continue
            n = con.execute(f'select count(*) from "{schema}"."{table}" where '
                            + " or ".join(f'contains(lower("{column}"), ?)' for _ in needles),
                            list(needles)).fetchall()[0][0]
            if n:
                hits[f"{schema}.{table}.{column}"] = n
    return hits


def audience_rows_with(settings, keys):
    """Per audience file, the rows holding one of `keys` (hashes, or an email compared in
    lower case)."""
    hits = {}
    for path in sorted(settings.output_dir.glob("audiences/*/*.csv")):
        n = sum(1 for row in csv.reader(path.open()) if any(c.lower() in keys for c in row))
        if n:
            hits[path.name] = n
    return hits


def test_forget_removes_a_customer_everywhere_and_for_good(long_history_store, tmp_path):
    from orchestration.cli import app
    from orchestration.pipeline import execute_pipeline

    # Forgetting changes the store: a copy of the shared one (warehouse, outputs, landing).
    store = copy_store(long_history_store, tmp_path / "home")

    win_back = max(store.output_dir.glob("customers/*/win_back.csv"))
    listed = {r["customer_id"] for r in csv.DictReader(win_back.open())}
    with duckdb.connect(str(store.warehouse_path), read_only=True) as con:
        # A repeat customer who wrote to Zendesk, on the win-back list when one is.
        email, customer_id = con.execute("""
            select customers.email, customers.customer_id from marts.dim_customers as customers
            where customers.orders >= 2 and lower(trim(customers.email)) in (
                select lower(trim(requester_email)) from raw.zendesk_tickets)
            order by customer_id in (select unnest(?::varchar[])) desc, customers.orders desc,
                     customers.customer_id
            limit 1
        """, [sorted(listed)]).fetchall()[0]
        phone, country = (con.execute(
            "select phone, country_code from raw.shopify_customers where lower(trim(email)) = ?",
            [email.strip().lower()]).fetchall() or [(None, None)])[0]
    assert customer_id == hashlib.md5(email.strip().lower().encode()).hexdigest()
    assert varchar_hits(store, [email.lower(), customer_id])  # present before
    # In the audience files: hashed for the ad platforms, plain in a Klaviyo list if they
    # accepted email marketing (models.audiences.forgotten_row_keys: every form of both).
    keys = forgotten_row_keys(email, phone, country, "us")
    assert audience_rows_with(store, keys)

    result = CliRunner().invoke(app, ["forget", "--email", f" {email.upper()} ",
                                      "--home", str(store.home)])
    assert result.exit_code == 0, result.output
    assert "rows deleted" in result.output and "still in the landing copy" in result.output
    assert varchar_hits(store, [email.lower(), customer_id]) == {}
    for path, data in output_bytes(store):
        assert customer_id.encode() not in data, path
    assert audience_rows_with(store, keys) == {}
    manifest = next(store.output_dir.glob("audiences/*/manifest.csv"))
    for row in csv.DictReader(manifest.open()):  # the counts follow the files
        assert int(row["rows"]) == len((manifest.parent / row["file"]).read_text().splitlines()) - 1

    # A second run on the same landing, then a new help-desk file that mentions the
    # customer again: they stay forgotten, and every file's rows still add up.
    zendesk = sorted((store.landing / "zendesk").glob("*.csv"))
    header, *lines = zendesk[0].read_text().splitlines()
    again = [line for z in zendesk for line in z.read_text().splitlines()[1:]
             if email.lower() in line.lower()][:1]
    assert again
    (store.landing / "zendesk" / "zendesk_tickets_reexport.csv").write_text(
        "\n".join([header, *again, *lines[:3]]) + "\n")
    summary = execute_pipeline(store)
    assert summary.success, summary.failed_steps
    assert summary.failed_checks == []
    assert varchar_hits(store, [email.lower(), customer_id]) == {}
    with duckdb.connect(str(store.warehouse_path), read_only=True) as con:
        loaded = con.execute("select rows_loaded from raw.load_log where source_file like "
                             "'%zendesk_tickets_reexport.csv'").fetchall()
    assert loaded and loaded[0][0] == len(again) + 3


def test_forget_rejects_what_is_not_an_email(store):
    from orchestration.cli import app

    result = CliRunner().invoke(app, ["forget", "--email", "nobody", "--home", str(store.home)])
    assert result.exit_code == 2
    assert "not an email address" in result.output
