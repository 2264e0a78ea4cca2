"""The demo store generator: a simulated direct-to-consumer store written as vendor exports."""

from orchestration.demo.generator import DEFAULT_END_DATE, DemoSummary, generate_store

__all__ = ["DEFAULT_END_DATE", "DemoSummary", "generate_store"]
