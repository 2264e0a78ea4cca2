"""Data-subject requests: forget one customer everywhere storeops keeps them.

`forget_customer(settings, email)` deletes, in one transaction:
- raw rows that carry the email (Shopify orders: every line of their orders, since the
  export puts the email on the first line only; the customers export; Zendesk and
  Gorgias tickets) and quarantined rows whose original text contains it;
- derived rows keyed by the customer's hash (`customer_id` = md5 of the normalised
  email) or holding the email, in every table of staging, intermediate, marts and
  analytics (incremental facts are not rebuilt from raw, so they are purged directly);
and records the hash (not the email) in `raw.forgotten_customers`, so rows of that
customer in files loaded later are purged after each ingest (`purge_forgotten`).
It also removes the customer from the contact lists under output/customers/ and from
every audience file under output/audiences/ (rows holding the SHA-256 of their email or
phone as any platform normalises it, or their plain email in a Klaviyo list), and
reports the landing files that still contain the email: vendor exports are the store's
own copies, to be deleted or re-exported at the source.
Aggregates (daily KPIs, cohort shares) keep the customer's past orders as numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dashboards.files import atomic_write
from orchestration.settings import Settings
from quality.warehouse import table_exists

# Columns that identify a customer, by what they hold.
HASH_COLUMNS = ("customer_id", "_customer_key")
EMAIL_COLUMNS = ("email", "email_normalised", "requester_email", "customer_email")
DERIVED_SCHEMAS = ("staging", "intermediate", "marts", "analytics")


def normalise_email(email: str) -> str:
    """As the warehouse does (dbt macro normalise_email): trimmed, lower case."""
    return email.strip().lower()


def customer_hash(email: str) -> str:
    """The warehouse's customer_id (dbt macro hash_email): md5 of the normalised email."""
    return hashlib.md5(normalise_email(email).encode()).hexdigest()


@dataclass
class ForgetReport:
    customer_id: str
    rows_deleted: dict[str, int] = field(default_factory=dict)
    files_rewritten: list[Path] = field(default_factory=list)
    landing_files_with_email: list[Path] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows_deleted.values())


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    rows = con.execute(
        """
        select t.table_schema, t.table_name, list(c.column_name order by c.ordinal_position)
        from information_schema.tables as t
        join information_schema.columns as c using (table_schema, table_name)
        where t.table_type = 'BASE TABLE' and t.table_schema in (select unnest(?::varchar[]))
        group by 1, 2 order by 1, 2
        """, [list(schemas)]).fetchall()
    return [(s, t, cols) for s, t, cols in rows]


def _delete(con, report: ForgetReport, table: str, where: str, params: list) -> None:
    n = con.execute(f"select count(*) from {table} where {where}", params).fetchall()[0][0]
    if not n:
        return
    if table.startswith("raw."):
        # Row conservation (rows in = loaded + quarantined) must still add up per file:
        # the rows deleted on request are counted per file in raw.forgotten_rows.
        con.execute("create table if not exists raw.forgotten_rows "
                    "(source varchar, file_sha256 varchar, rows bigint, forgotten_at timestamp)")
        if table == "raw.quarantine":
            per_file = "select source, file_sha256"
        else:
            per_file = f"select '{table.removeprefix('raw.')}' as source, _file_sha256"
        con.execute(f"insert into raw.forgotten_rows {per_file}, count(*), now()::timestamp "
                    f"from {table} where {where} group by all", params)
    con.execute(f"delete from {table} where {where}", params)
    report.rows_deleted[table] = report.rows_deleted.get(table, 0) + n


def purge(con: duckdb.DuckDBPyConnection, *, customer_ids: list[str],
          emails: list[str] | None = None, report: ForgetReport | None = None,
          derived: bool = True) -> ForgetReport:
    """Delete the rows of these customers (by hash, and by email when known) from raw and,
    with `derived`, from staging, intermediate, marts and analytics tables."""
    report = report or ForgetReport(customer_id=",".join(customer_ids))
    emails = [normalise_email(e) for e in (emails or [])]
    ids = list(customer_ids)

    def email_match(column: str) -> str:
        # Raw columns hold the email as exported; compare normalised, or by hash when the
        # email itself is not known (rows loaded after the request).
        return f"(lower(trim({column})) in (select unnest(?::varchar[])) or md5(lower(trim({column}))) in (select unnest(?::varchar[])))"

    raw_tables = {t: cols for s, t, cols in _tables(con, ("raw",))}
    if "shopify_orders" in raw_tables:
        # The order's email is on its first line only: delete every line of those orders.
        _delete(con, report, "raw.shopify_orders",
                f"name in (select name from raw.shopify_orders where {email_match('email')})",
                [emails, ids])
    for table, column in (("shopify_customers", "email"), ("zendesk_tickets", "requester_email"),
                          ("gorgias_tickets", "customer_email")):
        if table in raw_tables and column in raw_tables[table]:
            _delete(con, report, f"raw.{table}", email_match(column), [emails, ids])
    if "quarantine" in raw_tables and emails:
        _delete(con, report, "raw.quarantine",
                "exists (select 1 from (select unnest(?::varchar[]) as e) where contains(lower(cast(original_row as varchar)), e))",
                [emails])
    for schema, table, cols in _tables(con, DERIVED_SCHEMAS if derived else ()):
        conditions, params = [], []
        for column in cols:
            if column in HASH_COLUMNS:
                conditions.append(f'"{column}" in (select unnest(?::varchar[]))')
                params.append(ids)
            elif column in EMAIL_COLUMNS:
                conditions.append(email_match(f'"{column}"'))
                params += [emails, ids]
        if conditions:
            _delete(con, report, f"{schema}.{table}", " or ".join(conditions), params)
    return report


def purge_forgotten(con: duckdb.DuckDBPyConnection) -> int:
    """After an ingest: remove raw rows of customers who asked to be forgotten (by hash);
    the warehouse is rebuilt from raw afterwards."""
    if not table_exists(con, "raw", "forgotten_customers"):
        return 0
    ids = [r[0] for r in con.execute("select customer_id from raw.forgotten_customers").fetchall()]
    if not ids:
        return 0
    return purge(con, customer_ids=ids, derived=False).total_rows


def _rewrite_lists(output_dir: Path, customer_id: str, report: ForgetReport) -> None:
    for path in sorted((output_dir / "customers").glob("*/*.csv")):
        text = path.read_text(encoding="utf-8")
        if customer_id not in text:
            continue
        rows = list(csv.reader(io.StringIO(text)))
        kept = [rows[0]] + [r for r in rows[1:] if customer_id not in r]

        def write(tmp: Path, kept=kept) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle, lineterminator="\n").writerows(kept)

        atomic_write(path, write)
        report.files_rewritten.append(path)


def _audience_keys(con: duckdb.DuckDBPyConnection, customer_id: str, email: str) -> set[str]:
    """What the customer's rows in the audience files hold (models.audiences), read before
    the warehouse forgets their phone and country."""
    from models.audiences import forgotten_row_keys
    from models.warehouse import audience_contacts, store_country

    phone = country = default = None
    if table_exists(con, "marts", "dim_customers"):
        contact = audience_contacts(con, [customer_id])
        if contact.height:
            phone, country = contact["phone"][0], contact["country_code"][0]
        default = store_country(con)
    return forgotten_row_keys(email, phone, country, default)


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)

    atomic_write(path, write)


def _rewrite_audiences(output_dir: Path, keys: set[str], report: ForgetReport) -> None:
    """Drop the rows holding any of `keys` (hashes, or the plain email of a Klaviyo list,
    compared in lower case) from every audience file, and the row counts of the folder's
    manifest.csv with them."""
    for folder in sorted(p for p in (output_dir / "audiences").glob("*") if p.is_dir()):
        counts: dict[str, int] = {}
        for path in sorted(folder.glob("*.csv")):
            if path.name == "manifest.csv":
                continue
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
            kept = rows[:1] + [r for r in rows[1:] if not any(c.strip().lower() in keys for c in r)]
            if len(kept) == len(rows):
                continue
            _write_rows(path, kept)
            counts[path.name] = len(kept) - 1
            report.files_rewritten.append(path)
        manifest = folder / "manifest.csv"
        if counts and manifest.exists():
            rows = list(csv.reader(io.StringIO(manifest.read_text(encoding="utf-8"))))
            file_at, rows_at = rows[0].index("file"), rows[0].index("rows")
            for row in rows[1:]:
                if row[file_at] in counts:
                    row[rows_at] = str(counts[row[file_at]])
            _write_rows(manifest, rows)


def _landing_files_with(landing: Path, email: str) -> list[Path]:
    needle = email.encode()
    found = []
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if needle in data.lower() or email.encode("utf-16-le") in data.lower():
            found.append(path)
    return found


def forget_customer(settings: Settings, email: str) -> ForgetReport:
    """Forget the customer with this email in the warehouse, the contact lists and the
    audience files."""
    if "@" not in email:
        raise ValueError(f"'{email}' is not an email address")
    email = normalise_email(email)
    customer_id = customer_hash(email)
    report = ForgetReport(customer_id=customer_id)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        audience_keys = _audience_keys(con, customer_id, email)
        con.execute("begin transaction")
        try:
            purge(con, customer_ids=[customer_id], emails=[email], report=report)
            con.execute("create table if not exists raw.forgotten_customers "
                        "(customer_id varchar primary key, forgotten_at timestamp)")
            con.execute("insert or replace into raw.forgotten_customers values (?, ?)",
                        [customer_id, datetime.now(UTC).replace(tzinfo=None)])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    _rewrite_lists(settings.output_dir, customer_id, report)
    _rewrite_audiences(settings.output_dir, audience_keys, report)
    if settings.landing.exists():
        report.landing_files_with_email = _landing_files_with(settings.landing, email)
    return report
