"""Where statsforecast runs: in this process (`local`: its own worker pool) or on a Fugue
execution engine through statsforecast's FugueBackend (`duckdb`, `dask`, `spark`, `ray`).

statsforecast sends a StatsForecast call to its Fugue backend when a Fugue engine is the
context engine (statsforecast.core.StatsForecast._is_native; Fugue's `engine_context`,
https://fugue-tutorials.readthedocs.io/tutorials/advanced/execution_engine.html): the
series are partitioned by `unique_id` and each partition runs the same local StatsForecast,
so the numbers are the local path's. The backend's output schema is single precision
(float32): results agree with the local path to about 1e-7 relative.

A local Spark's Python workers run this interpreter (PYSPARK_PYTHON, unless already set).

`duckdb` runs in this process on Fugue's DuckDB engine (no cluster, always installed: the
test of the distributed path); `dask`, `spark` and `ray` need their packages (and for
Spark, Java) and start a local cluster unless one is configured for Fugue.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import polars as pl

COMPUTE = ("local", "duckdb", "dask", "spark", "ray")
ENGINE_PACKAGES = {"duckdb": "duckdb", "dask": "dask", "spark": "pyspark", "ray": "ray"}


def check_compute(compute: str) -> None:
    """Raise ValueError unless `compute` is one of COMPUTE, and ImportError, naming the
    package to install, when its engine's package is missing."""
    if compute not in COMPUTE:
        raise ValueError(f"compute must be one of {', '.join(COMPUTE)}, got {compute!r}")
    package = ENGINE_PACKAGES.get(compute)
    if package and importlib.util.find_spec(package) is None:
        raise ImportError(f"compute '{compute}' needs the {package} package (and fugue's "
                          f"{compute} extra): install it, or use compute 'local' or 'duckdb'")


def run_on_engine(sf, method: str, df: pl.DataFrame, compute: str, **kwargs) -> pl.DataFrame:
    """`sf.<method>(df=df, **kwargs)` (StatsForecast `forecast` or `cross_validation`) on the
    Fugue engine `compute`, back as polars: model columns Float64, `ds` and `cutoff` in
    `df`'s ds type, rows sorted by unique_id, (cutoff,) ds like the local path's output.

    df: `unique_id, ds, y` (polars). Raises what `check_compute` raises.
    """
    import fugue.api as fa

    check_compute(compute)
    if compute == "spark":
        # Spark's Python workers run `python3` from PATH unless told otherwise: outside
        # this interpreter's environment they miss pandas and statsforecast.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    with fa.engine_context(compute):
        out = fa.as_pandas(getattr(sf, method)(df=df.to_pandas(), **kwargs))
    frame = pl.from_pandas(out)
    ds_type = df.schema["ds"]
    keys = {"unique_id", "ds", "cutoff", "y"}
    frame = frame.with_columns(
        pl.col("unique_id").cast(pl.Utf8),
        *(pl.col(c).cast(ds_type) for c in ("ds", "cutoff") if c in frame.columns),
        *(pl.col(c).cast(pl.Float64) for c in frame.columns if c not in keys),
        *([pl.col("y").cast(pl.Float64)] if "y" in frame.columns else []),
    )
    order = [c for c in ("unique_id", "cutoff", "ds") if c in frame.columns]
    return frame.sort(order)


def run_statsforecast(sf, method: str, df: pl.DataFrame, compute: str, **kwargs) -> pl.DataFrame:
    """`sf.<method>(df=df, **kwargs)` here ("local": statsforecast's own path and worker
    pool) or on the Fugue engine `compute` (`run_on_engine`); polars either way."""
    if compute == "local":
        return getattr(sf, method)(df=df, **kwargs)
    return run_on_engine(sf, method, df, compute, **kwargs)
