"""A hook the CLI sets to show what a long in-process run is doing.

Assets call `report("raw.shopify_orders: orders_2025Q1.csv")`; outside the CLI it does
nothing. Runs launched from the Dagster UI log through `context.log` as usual.
"""

from __future__ import annotations

from collections.abc import Callable

_listener: Callable[[str], None] | None = None


def set_listener(listener: Callable[[str], None] | None) -> None:
    global _listener
    _listener = listener


def report(message: str) -> None:
    if _listener is not None:
        _listener(message)
