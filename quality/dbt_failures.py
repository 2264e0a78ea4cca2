"""The rows behind a failed dbt data test, named by export file and row.

dbt reports a failed test by its name and a count ("unique_fct_orders_order_name: 2
failures"); a person fixing the data needs the rows: which export, which row, which
order. `locate` reads them from the warehouse once dbt has finished (pure: a DuckDB
connection and the run's manifest in, plain values out).

For dbt's four built-in generic tests the model's own rows are read (so a `unique` test
names every copy of the duplicated key, not only the key): not_null, unique,
accepted_values, relationships. Any other test (singular tests, custom generic tests)
returns its failing rows from its compiled SQL, which is what dbt counts as failures
(https://docs.getdbt.com/docs/build/data-tests). A row is named by its export file and
row (`source_file`/`source_row`, or the staging models' `_source_file`/`_source_row`)
and by the model's key (the columns with a `unique` test), else by its first columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quality.validate import plain_value

FILE_COLUMNS = ("source_file", "_source_file")
ROW_COLUMNS = ("source_row", "_source_row")
# Columns that name a business object, when a model has no unique key test.
NAMING_COLUMNS = ("order_name", "order_line_id", "sku", "customer_id", "ticket_id",
                  "po_number", "campaign_id", "ad_id", "kpi_date", "date")


@dataclass
class Located:
    """The failing rows of one test: `rows` (dicts of the columns that name them, at most
    `limit`), `where` (one line: "orders_export_1.csv row 12 (order_name #1001); ..."),
    and `total` (all failing rows, or None when only the first `limit` were read)."""

    test: str
    model: str | None
    rows: list[dict] = field(default_factory=list)
    where: str = ""
    total: int | None = None
    error: str | None = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _node_relation(manifest: dict, unique_id: str | None) -> str | None:
    node = (manifest.get("nodes", {}).get(unique_id)
            or manifest.get("sources", {}).get(unique_id)) if unique_id else None
    return node.get("relation_name") if node else None


def _attached_model(manifest: dict, test: dict) -> str | None:
    attached = test.get("attached_node")
    if attached:
        return attached
    models = [n for n in test.get("depends_on", {}).get("nodes", [])
              if n.startswith(("model.", "snapshot.", "seed."))]
    return models[0] if len(models) == 1 else None


def _key_columns(manifest: dict, model_id: str) -> list[str]:
    """Columns of the model with a `unique` test: its grain, what names a row."""
    keys = []
    for node in manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if (node.get("resource_type") == "test" and meta.get("name") == "unique"
                and node.get("attached_node") == model_id):
            column = (meta.get("kwargs") or {}).get("column_name") or node.get("column_name")
            if column and column not in keys:
                keys.append(column)
    return keys


def failing_rows_sql(manifest: dict, test_id: str,
                     compiled_code: str | None = None) -> tuple[str, str | None]:
    """(SQL that returns the failing rows, the model's unique_id or None).

    compiled_code: the test's SQL as the run compiled it (run_results.json carries it;
    the manifest does not). Raises KeyError when the test is not in the manifest and
    ValueError when a test that is not one of the four built-ins has no compiled SQL."""
    test = manifest["nodes"][test_id]
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    model_id = _attached_model(manifest, test)
    relation = _node_relation(manifest, model_id)
    column = kwargs.get("column_name") or test.get("column_name")
    name = meta.get("name")
    if relation and column and name in ("not_null", "unique", "accepted_values",
                                        "relationships"):
        col = column if column.startswith('"') else _quote(column)
        if name == "not_null":
            return f"select * from {relation} where {col} is null", model_id
        if name == "unique":
            return (f"select * from {relation} where {col} in (select {col} from {relation} "
                    f"where {col} is not null group by {col} having count(*) > 1) "
                    f"order by {col}"), model_id
        if name == "accepted_values":
            values = kwargs.get("values") or (kwargs.get("arguments") or {}).get("values") or []
            listed = ", ".join(_literal(str(v)) for v in values) or "null"
            return (f"select * from {relation} where {col} is not null "
                    f"and cast({col} as varchar) not in ({listed})"), model_id
        to = kwargs.get("to") or (kwargs.get("arguments") or {}).get("to")
        to_field = kwargs.get("field") or (kwargs.get("arguments") or {}).get("field")
        parents = [n for n in test.get("depends_on", {}).get("nodes", []) if n != model_id]
        parent = _node_relation(manifest, parents[0]) if len(parents) == 1 else None
        if parent and to_field and to:
            return (f"select * from {relation} where {col} is not null and {col} not in "
                    f"(select {_quote(to_field)} from {parent} "
                    f"where {_quote(to_field)} is not null)"), model_id
    compiled = compiled_code or test.get("compiled_code")
    if not compiled:
        raise ValueError(f"{test_id} has no compiled SQL in this manifest")
    return f"select * from ({compiled.rstrip().rstrip(';')}) as failing", model_id


def name_row(row: dict, keys: list[str]) -> str:
    """'orders_export_1.csv row 12 (order_name #1001)', or 'order_name #1001' for a row
    without a source file, or its first three columns when nothing names it."""
    file = next((row[c] for c in FILE_COLUMNS if row.get(c) is not None), None)
    line = next((row[c] for c in ROW_COLUMNS if row.get(c) is not None), None)
    named = [c for c in keys if c in row][:2] or [c for c in NAMING_COLUMNS if c in row][:1]
    naming = ", ".join(f"{c} {plain_value(row[c])}" for c in named)
    if file is not None:
        where = f"{file}" + (f" row {line}" if line is not None else "")
        return where + (f" ({naming})" if naming else "")
    if naming:
        return naming
    shown = [c for c in row if c not in FILE_COLUMNS + ROW_COLUMNS][:3]
    return ", ".join(f"{c} {plain_value(row[c])}" for c in shown)


def locate(con, manifest: dict, test_id: str, *, compiled_code: str | None = None,
           limit: int = 5) -> Located:
    """The failing rows of test `test_id` (a dbt unique_id) in the warehouse `con`, at
    most `limit` (Located.total is None when there are more).

    Never raises for a query that fails (a test of a model that no longer exists, a
    dropped column): the error is returned in `Located.error`, since this only adds
    detail to a failure dbt already reported."""
    test = manifest.get("nodes", {}).get(test_id, {})
    located = Located(test=test.get("name", test_id), model=None)
    try:
        sql, model_id = failing_rows_sql(manifest, test_id, compiled_code)
        located.model = model_id.split(".")[-1] if model_id else None
        keys = _key_columns(manifest, model_id) if model_id else []
        cursor = con.execute(f"select * from ({sql}) as failing limit {int(limit) + 1}")
        names = [d[0] for d in cursor.description]
        fetched = [dict(zip(names, r)) for r in cursor.fetchall()]
        if len(fetched) <= limit:
            located.total = len(fetched)
        fetched = [{c: v for c, v in r.items() if "email" not in c.lower()}
                   for r in fetched[:limit]]
        wanted = [c for c in [*FILE_COLUMNS, *ROW_COLUMNS, *keys, *NAMING_COLUMNS]
                  if c in names]
        # Nothing names the rows: their first columns, never a customer's email (the
        # failing rows go into Dagster's event log and the quality report).
        plain = [c for c in names if "email" not in c.lower()][:5]
        located.rows = [{c: plain_value(r[c]) for c in (wanted or plain)} for r in fetched]
        located.where = "; ".join(name_row(r, keys) for r in fetched)
    except Exception as exc:  # noqa: BLE001 - detail for a failure already reported
        located.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    return located


def compiled_codes(run_results: dict) -> dict[str, str]:
    """unique_id -> compiled SQL, from a dbt run_results.json (as a dict)."""
    return {r["unique_id"]: r["compiled_code"] for r in run_results.get("results", [])
            if r.get("compiled_code")}
