"""dbt models' SQL rendered outside dbt, for tests that build marts in an in-memory DuckDB.

A test that hand-builds a few marts can build the marts derived from them with the model's
own SQL and macros instead of a copy of its rules: `build_model(con, "fct_cohort_retention")`
after creating the tables the model refs. Only what the rendered models use is supported:
`ref` (schema from the name's prefix, as dbt_project.yml sets it), `var` (from `variables`)
and the project's macros.
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


def render_model(model: str, variables: dict | None = None) -> str:
    """The model's select statement with refs, vars and macros resolved."""
    macros = "\n".join(path.read_text() for path in sorted((DBT_PROJECT / "macros").glob("*.sql")))
    source = next((DBT_PROJECT / "models").rglob(f"{model}.sql")).read_text()
    values = variables or {}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.globals.update(ref=ref, var=lambda name, default=None: values.get(name, default))
    return env.from_string(macros + "\n" + source).render()


def build_model(con, model: str, variables: dict | None = None) -> None:
    """Create (or replace) the model's table from the tables it refs in `con`."""
    con.execute(f"create schema if not exists {schema_of(model)}")
    con.execute(f"create or replace table {ref(model)} as {render_model(model, variables)}")
