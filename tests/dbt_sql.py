"""dbt models' SQL rendered outside dbt, for tests that build marts in an in-memory DuckDB.

A test that hand-builds a few marts can build the marts derived from them with the model's
own SQL and macros instead of a copy of its rules: `build_model(con, "fct_cohort_retention")`
after creating the tables the model refs. Only what the rendered models use is supported:
`ref` (schema from the name's prefix, as dbt_project.yml sets it), `source` (raw.<table>), `var` (from `variables`),
the project's macros with `adapter.dispatch` going to their duckdb__ versions, `target.type`
('duckdb') and the few dbt cross-database macros the models call, as dbt-duckdb renders them.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


def schema_of(model: str) -> str:
    """The schema dbt_project.yml puts a model in, from its name."""
    if model.startswith("stg_"):
        return "staging"
    if model.startswith("int_"):
        return "intermediate"
    return "marts"


def ref(model: str) -> str:
    return f"{schema_of(model)}.{model}"


class DbtCrossDatabase:
    """dbt's cross-database macros (`dbt.datediff`, ...) the models call, in the SQL
    dbt-duckdb renders for them."""

    @staticmethod
    def type_string() -> str:
        return "varchar"

    @staticmethod
    def date_trunc(datepart: str, date: str) -> str:
        return f"date_trunc('{datepart}', {date})"

    @staticmethod
    def datediff(first_date: str, second_date: str, datepart: str) -> str:
        return f"(date_diff('{datepart}', {first_date}::timestamp, {second_date}::timestamp))"

    @staticmethod
    def dateadd(datepart: str, interval, from_date_or_timestamp: str) -> str:
        return f"({from_date_or_timestamp} + cast({interval} as bigint) * interval 1 {datepart})"

    @staticmethod
    def listagg(measure: str, delimiter_text: str = "','") -> str:
        return f"string_agg({measure}, {delimiter_text})"


class DuckDBAdapter:
    """`adapter.dispatch(name)`: the project's duckdb__<name> macro, else default__<name>."""

    def __init__(self, macros):
        self.macros = macros

    def dispatch(self, name: str, macro_namespace: str | None = None):
        for prefix in ("duckdb__", "default__"):
            if hasattr(self.macros, prefix + name):
                return getattr(self.macros, prefix + name)
        raise KeyError(f"no duckdb__{name} or default__{name} macro in dbt_project/macros")


def render_model(model: str, variables: dict | None = None, folder: str = "models") -> str:
    """The model's select statement with refs, vars and macros resolved (folder "tests": a
    singular data test's, whose rows are its failures)."""
    macros = "\n".join(path.read_text() for path in sorted((DBT_PROJECT / "macros").glob("*.sql")))
    source = next((DBT_PROJECT / folder).rglob(f"{model}.sql")).read_text()
    values = variables or {}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.globals.update(ref=ref, source=lambda schema, table: f"{schema}.{table}",
                       config=lambda **kwargs: "",
                       var=lambda name, default=None: values.get(name, default),
                       target={"type": "duckdb"}, dbt=DbtCrossDatabase())
    # dbt's return(): a dispatching macro's whole output is the value it returns
    env.globals["return"] = lambda value: value
    env.globals["adapter"] = DuckDBAdapter(env.from_string(macros).module)
    return env.from_string(macros + "\n" + source).render()


def build_model(con, model: str, variables: dict | None = None) -> None:
    """Create (or replace) the model's table from the tables it refs in `con`."""
    con.execute(f"create schema if not exists {schema_of(model)}")
    con.execute(f"create or replace table {ref(model)} as {render_model(model, variables)}")


def data_test_failures(con, name: str, variables: dict | None = None) -> list[tuple]:
    """The rows a singular data test (dbt_project/tests/<name>.sql) returns: its failures."""
    return con.execute(render_model(name, variables, folder="tests")).fetchall()
