"""Run a suite with Great Expectations 1.x on a pandas frame and say what failed, where.

GX is imported here, lazily (its import takes seconds), with usage statistics and
progress bars off. One ephemeral context per process.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from quality.suites import Rule, Suite

EXAMPLES = 5
_context = None
SOURCE = "storeops"  # the pandas data source of one validation (run_suite)
NARROW_ROWS = 200_000  # from this many rows a suite is validated column set by column set


@dataclass
class RuleOutcome:
    """What one rule found on a frame: whether it held, the rows checked, how many broke
    it, up to EXAMPLES failing rows (dicts of the suite's locate_by columns and the value;
    for a type rule the dtype found), or the error that kept it from being checked."""

    rule: Rule
    success: bool
    rows: int
    unexpected_count: int = 0
    error: str | None = None
    examples: list[dict] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Rows that broke the rule as a share of the rows checked (0.0-1.0; 0.0 when none were)."""
        return self.unexpected_count / self.rows if self.rows else 0.0

    @property
    def blocks(self) -> bool:
        """A failure of a blocking rule beyond its tolerance (or one GX could not evaluate)."""
        if self.success or not self.rule.blocking:
            return False
        if self.error or self.rule.expectation in ("ExpectColumnToExist",
                                                   "ExpectColumnValuesToBeInTypeList"):
            return True
        return self.share > self.rule.block_above

    def describe(self, locate_by: tuple[str, ...]) -> str:
        """`lineitem_quantity is between 0 and 10,000: 3 of 1,200 rows (0.25%) break it,
        e.g. shopify/orders/x.csv row 12 (-1)`."""
        if self.error:
            return f"{self.rule.why}: could not be checked ({self.error})"
        if self.rule.expectation in ("ExpectColumnToExist", "ExpectColumnValuesToBeInTypeList"):
            return f"{self.rule.why}: no" + (f" ({self.examples[0]})" if self.examples else "")
        where = ", ".join(_locate(e, locate_by, self.rule.column) for e in self.examples[:3])
        return (f"{self.rule.why}: {self.unexpected_count:,} of {self.rows:,} rows "
                f"({self.share:.2%}) break it" + (f", e.g. {where}" if where else ""))

    def as_json(self, locate_by: tuple[str, ...]) -> dict:
        """The outcome as a JSON-ready dict (the check's failures metadata): the rule, its
        tolerance, counts, share, error, the examples located and the `describe` text."""
        return {
            "rule": self.rule.why, "expectation": self.rule.expectation,
            "column": self.rule.column, "success": self.success, "blocks": self.blocks,
            "blocking_rule": self.rule.blocking, "tolerance": self.rule.block_above,
            "rows": self.rows, "unexpected": self.unexpected_count,
            "share": round(self.share, 6), "error": self.error,
            "examples": [_locate(e, locate_by, self.rule.column) for e in self.examples],
            "text": self.describe(locate_by),
        }


@dataclass
class SuiteResult:
    """What `run_suite` found: one outcome per rule, in the suite's order, the rows
    validated and the seconds it took."""

    suite: Suite
    rows: int
    outcomes: list[RuleOutcome]
    seconds: float = 0.0

    @property
    def failed(self) -> list[RuleOutcome]:
        """The outcomes of the rules that did not hold, blocking or warning."""
        return [o for o in self.outcomes if not o.success]

    @property
    def blocking(self) -> list[RuleOutcome]:
        """The failures that block (`RuleOutcome.blocks`)."""
        return [o for o in self.outcomes if o.blocks]

    @property
    def passed(self) -> bool:
        """Whether every rule held; a warning alone also makes it False."""
        return not self.failed

    def summary(self) -> str:
        """One line: the expectations met, or up to three failures (the blocking ones
        when any block, else the warnings), each as `RuleOutcome.describe` says it."""
        if self.passed:
            return f"{self.suite.name}: {len(self.outcomes)} expectations met on {self.rows:,} rows"
        worst = self.blocking or self.failed
        return f"{self.suite.name}: " + "; ".join(o.describe(self.suite.locate_by)
                                                  for o in worst[:3])


def _locate(example, locate_by: tuple[str, ...], column: str | None) -> str:
    if not isinstance(example, dict):
        return str(example)
    if "_source_file" in example:
        where = f"{example.get('_source_file')} row {example.get('_source_row')}"
        # a mart row also names its key (the order), beside the file row it came from
        where += "".join(f", {k} {plain_value(example.get(k))}" for k in locate_by
                         if k in example and not k.startswith("_"))
    else:
        where = ", ".join(f"{k} {plain_value(example.get(k))}" for k in locate_by if k in example)
    value = example.get(column) if column else None
    return f"{where} ({plain_value(value)})" if column in example else where


def plain_value(value: Any) -> str:
    """A cell as a person reads it in a failure message: "empty" for null/NaN, a date
    without a midnight time, 6 significant digits for floats, decimals without trailing
    zeros; pandas/numpy scalars as their Python values."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "empty"
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, Decimal):
        value = value.item()
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _exception(info) -> str | None:
    """GX reports an exception either flat or per metric it could not compute."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "GX could not compute it"
    return None


def context():
    """The process' ephemeral GX context (no files, no usage statistics, no progress bars)."""
    global _context
    if _context is None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        # GX fingerprints every pandas batch under 1 GB (an md5 of
        # pandas.util.hash_pandas_object, twice per validation) only to label it in the
        # result's batch markers, which storeops never reads: on the 10x store's order
        # lines (4M rows) that was 30 of the suite's 50 s, and about 60% of every suite.
        # The threshold is the only switch GX has (no setting); 0 means never.
        pandas_execution_engine.HASH_THRESHOLD = 0
        _context = ctx
    return _context


def run_suite(suite: Suite, frame) -> SuiteResult:
    """Validate a pandas frame against a suite; every rule gets an outcome, also when a
    column is missing (that is an outcome, not an exception). An empty frame is not
    handed to GX: rules about values hold on no rows, and existence is read off the frame.

    A frame of NARROW_ROWS rows or more is validated one column set at a time: the rules
    reading the same columns together, on a frame of those columns and the suite's
    locate_by columns. GX copies the whole frame for every metric it filters (its pandas
    engine drops the rows a column's rule ignores by copying the batch), so on the 10x
    store's orders (4M rows, 15 columns) the suite took 74 s whole and 31 s by column
    set. Each rule sees the same rows of its own columns either way: the outcomes are
    the same."""
    started = time.monotonic()
    # GX's type check misreads pandas' nullable integers (observed "int64", yet failed):
    # hand it numpy floats, as DuckDB gives for integer columns holding nulls.
    nullable = {c: "float64" for c in frame.columns
                if str(frame[c].dtype) in ("Int8", "Int16", "Int32", "Int64", "UInt8",
                                           "UInt16", "UInt32", "UInt64")}
    if nullable:
        frame = frame.astype(nullable)
    present = set(frame.columns)
    outcomes: list[RuleOutcome] = []
    runnable: list[Rule] = []
    for rule in suite.rules:
        missing = [c for c in rule.reads() if c not in present]
        if missing and rule.expectation != "ExpectColumnToExist":
            outcomes.append(RuleOutcome(rule, False, len(frame),
                                        error=f"column {', '.join(missing)} missing"))
        else:
            runnable.append(rule)
    locate = [c for c in suite.locate_by if c in present]
    if len(frame) == 0:
        # No rows: every rule about values holds vacuously, and a column's existence is a
        # fact of the frame. GX is not asked (a quarter of a second per suite, and most
        # raw tables of a store without some source are empty).
        outcomes += [RuleOutcome(rule, rule.expectation != "ExpectColumnToExist"
                                 or rule.kwargs["column"] in present, 0)
                     for rule in runnable]
        runnable = []
    if len(frame) >= NARROW_ROWS:
        groups: dict[tuple[str, ...], list[Rule]] = {}
        for rule in runnable:
            columns = tuple(dict.fromkeys(c for c in (*locate, *rule.reads()) if c in present))
            groups.setdefault(columns, []).append(rule)
        parts = [(frame[list(columns)], rules) for columns, rules in groups.items()]
    else:
        parts = [(frame, runnable)] if runnable else []
    for part, rules in parts:
        outcomes += _validate(suite.name, part, rules, locate)
    order = {id(r): i for i, r in enumerate(suite.rules)}
    outcomes.sort(key=lambda o: order[id(o.rule)])
    return SuiteResult(suite, len(frame), outcomes, seconds=time.monotonic() - started)


def _validate(name: str, frame, rules: list[Rule], locate: list[str]) -> list[RuleOutcome]:
    """GX's outcomes of `rules` on `frame` (every column they read is present, except
    the one an ExpectColumnToExist rule looks for)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ctx = context()
    # A data source per validation, deleted after it: GX's pandas execution engine keeps
    # every batch it loaded (BatchManager's batch data cache) for as long as its data
    # source lives, so a process-wide one held each suite's whole frame until the process
    # ended: every raw and mart table of a run at once (GiBs at the 10x store).
    try:
        ctx.data_sources.delete(SOURCE)
    except (KeyError, ValueError, LookupError):
        pass
    source = ctx.data_sources.add_pandas(SOURCE)
    try:
        asset = source.add_dataframe_asset(name.replace(".", "__"))
        batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame})
        # GX does not keep the suite's order in its results: each expectation carries
        # the index of its rule.
        expectations = [getattr(gxe, rule.expectation)(**rule.kwargs, meta={"rule": i})
                        for i, rule in enumerate(rules)]
        result = batch.validate(gx.ExpectationSuite(name=name, expectations=expectations),
                                result_format={
                                    "result_format": "SUMMARY",
                                    "partial_unexpected_count": EXAMPLES,
                                    "unexpected_index_column_names": locate,
                                })
    finally:
        ctx.data_sources.delete(SOURCE)
    outcomes = []
    for res in result.results:
        rule = rules[int(res.expectation_config.meta["rule"])]
        error = _exception(res.exception_info)
        detail = res.result or {}
        examples = list(detail.get("partial_unexpected_index_list") or [])[:EXAMPLES]
        if rule.expectation == "ExpectColumnValuesToBeInTypeList" and not res.success:
            examples = [f"found {detail.get('observed_value')}"]
        outcomes.append(RuleOutcome(
            rule, bool(res.success) and not error, int(detail.get("element_count") or len(frame)),
            unexpected_count=int(detail.get("unexpected_count") or 0),
            error=error, examples=examples,
        ))
    return outcomes
