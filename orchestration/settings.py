"""Where a storeops home lives and what is in it.

One home directory holds everything a store's storeops produces: the warehouse, the
Dagster instance, the outputs and (for the demo) the landing files. The CLI, the Dagster
code location and dbt all find it through the same environment variable, so `storeops
run`, `storeops ui` and `dbt build` always talk about the same warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

HOME_ENV = "STOREOPS_HOME"
LANDING_ENV = "STOREOPS_LANDING"
DEFAULT_HOME = Path("storeops_home")
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class Settings:
    """Paths and store facts for one storeops home.

    `home/storeops.yml` may set `timezone`, `currency` and `landing` (a path); anything
    not set falls back to the defaults above.
    """

    home: Path
    landing: Path
    timezone: str = DEFAULT_TIMEZONE
    currency: str = DEFAULT_CURRENCY

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def output_dir(self) -> Path:
        return self.home / "output"

    @property
    def truth_dir(self) -> Path:
        return self.home / "demo_truth"

    @classmethod
    def load(cls, home: Path | str | None = None, landing: Path | str | None = None) -> Settings:
        """Settings for `home` (else $STOREOPS_HOME, else ./storeops_home)."""
        home_path = Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME).resolve()
        config: dict = {}
        config_file = home_path / "storeops.yml"
        if config_file.exists():
            config = yaml.safe_load(config_file.read_text()) or {}
        landing_path = landing or os.environ.get(LANDING_ENV) or config.get("landing")
        return cls(
            home=home_path,
            landing=Path(landing_path).resolve() if landing_path else home_path / "landing",
            timezone=config.get("timezone", DEFAULT_TIMEZONE),
            currency=config.get("currency", DEFAULT_CURRENCY),
        )

    def export_env(self) -> None:
        """Point every component (Dagster, dbt, subprocesses) at this home."""
        os.environ[HOME_ENV] = str(self.home)
        os.environ[LANDING_ENV] = str(self.landing)
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        # Nothing may call home.
        os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        os.environ["DAGSTER_DISABLE_TELEMETRY"] = "true"
