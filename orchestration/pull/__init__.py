"""Pull from the vendors' APIs into the landing directory (issue 19; DESIGN.md, data flow).

A pull writes what it fetched as files in the landing folder of the entity, in the shape
of that vendor's own export, plus the columns only the API has. The raw loader then
treats a pulled page exactly as a downloaded export: lineage (`_source_file` names the
pull and page), quarantine with reasons, row conservation, and sha256 idempotency (a page
pulled twice with the same content adds nothing). Staging keeps the newest version of an
entity whether it came from an export or a pull (`newest_file_wins`: a pulled page's rows
are dated by `Updated at`, the export's by `Created at`).

Each pull keeps its cursor (the newest `updatedAt` of the pages it has written) in
`<home>/pulls/state.json`, saved after every page file is in place; a pull killed at any
point starts again from the last saved cursor, and what it fetches twice is either the
same file (skipped) or a newer version of the same orders (newest wins). Every pull
appends one line to `<home>/pulls/log.jsonl`: window, pages, records, requests, throttle
waits, cursor. Credentials come only from the environment (`credentials.py`) and are
never written anywhere.

Sources (`sources.RESOURCES`): Shopify orders, products, customers, inventory and
Shopify Payments balance transactions (GraphQL Admin API, `shopify.py`; a store without
Shopify Payments, or a token without its scope, gives a pull recorded as skipped), Meta
insights (`meta.py`), Google Ads searchStream (`google_ads.py`), TikTok's integrated
report (`tiktok.py`), Gorgias tickets (`gorgias.py`) and Zendesk's incremental ticket
export (`zendesk.py`). Each run of a pull is recorded by `state.recorded`. Pure: no
Dagster imports.

Why dlt's HTTP layer and not a dlt pipeline: the requests client (retries of 429 and 5xx
honouring Retry-After, backoff) and the REST client with its paginators come from dlt, but
a dlt pipeline writes its rows to a destination of its own (DuckDB tables or files with
dlt's schema), which would bypass the loader's guarantees that the pulled rows must share
with the exports (quarantine with reasons, row conservation, sha256 idempotency, newest
file wins) and would make a second writer of the warehouse outside the `duckdb_write`
pool. So the pulls keep their own cursor files and write export-shaped pages, and the
Dagster assets are ours (`orchestration/defs/pull.py`) instead of dagster-dlt's.
"""

from orchestration.pull.credentials import CredentialError, credential
from orchestration.pull.state import PullLog, PullState

__all__ = ["CredentialError", "PullLog", "PullState", "credential"]
