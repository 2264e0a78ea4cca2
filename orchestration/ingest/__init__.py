"""Pure readers for each vendor format and the raw loader (no Dagster imports)."""

from orchestration.ingest.loader import (
    FileResult,
    SourceResult,
    ensure_schema,
    ingest_landing,
    ingest_source,
    load_file,
    quarantine_preview,
)
from quality.specs import SPECS, SPECS_BY_TABLE, SourceSpec

__all__ = [
    "SPECS", "SPECS_BY_TABLE", "FileResult", "SourceResult", "SourceSpec", "ensure_schema",
    "ingest_landing", "ingest_source", "load_file", "quarantine_preview",
]
