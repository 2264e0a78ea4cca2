"""The dbt project object, built once. `dagster dev` re-parses it; tests and CI prepare
the manifest explicitly with `dagster-dbt project prepare-and-package --file` this file."""

from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@cache
def storeops_dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


dbt_project = storeops_dbt_project()
