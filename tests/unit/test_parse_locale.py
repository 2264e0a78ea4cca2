"""Numbers in any locale, vendor placeholders, summary rows, report shape, id and
timezone warnings: exact values for every rule (no disk, no DuckDB)."""

from datetime import date
from decimal import Decimal

import pytest

from orchestration.ingest.parse import parse_frame, rows_text
from orchestration.ingest.readers import FileRejected, read_csv_text
from quality.specs import (
    APPROVALS,
    GOOGLE_ADS,
    META_ADS,
    PURCHASING_SKU_SUPPLIERS,
    SHOPIFY_ORDERS,
)

TZ = "America/New_York"
SKU = "sku,supplier,unit_cost,moq_units,case_pack\n"


def load(spec, text, name="f.csv", **kw):
    read = read_csv_text(spec, text, name)
    parsed = parse_frame(spec, read.frame, read.header, timezone=kw.pop("timezone", TZ),
                         delimiter=read.delimiter, file_name=name, **kw)
    assert read.rows_in == parsed.good.height + parsed.bad.height
    return read, parsed


def costs(text, spec=PURCHASING_SKU_SUPPLIERS):
    _, parsed = load(spec, text)
    return parsed.good.sort("_source_row")["unit_cost"].to_list(), parsed.bad


@pytest.mark.parametrize(("cells", "expected"), [
    (['"12,50"'], [Decimal("12.50")]),
    (['"1.204,50"'], [Decimal("1204.50")]),
    (['"1,204.50"'], [Decimal("1204.50")]),
    (["12.50"], [Decimal("12.50")]),
    (['"8,4"'], [Decimal("8.4")]),
    (['"1,204,500"'], [Decimal(1204500)]),
    (['"1.204.500"'], [Decimal(1204500)]),
    (['"1 204,50"'], [Decimal("1204.50")]),
    (['"$1,030.00"', '"(12.50)"'], [Decimal("1030.00"), Decimal("-12.50")]),
    # The column's other values decide an ambiguous one: 3,20 says comma, so 1.204.
    (['"1,204"', '"3,20"'], [Decimal("1.204"), Decimal("3.20")]),
    (['"1,204"', "3.20"], [Decimal(1204), Decimal("3.20")]),
])
def test_decimal_mark_per_column(cells, expected):
    text = SKU + "".join(f"S{i},Acme,{c},1,1\n" for i, c in enumerate(cells))
    got, bad = costs(text)
    assert bad.height == 0, bad["reason"].to_list()
    assert got == expected


def test_ambiguous_value_without_evidence_is_quarantined_with_both_readings():
    got, bad = costs(SKU + 'S1,Acme,"1,204",1,1\nS2,Acme,7,1,1\n')
    assert got == [Decimal(7)]
    assert bad["reason"].to_list() == [
        ("column 'unit_cost': '1,204' could be 1204 or 1.204: the file gives no other value "
        "to tell its decimal mark; export the file again and load it as downloaded (do not "
        "open and save it in a spreadsheet)")]


def test_other_numeric_columns_of_the_file_decide_then_the_delimiter():
    meta = ("Reporting starts,Reporting ends,Campaign name,Amount spent (USD),Frequency\n"
            '2026-11-01,2026-11-01,A,"1,204","1,73"\n')
    _, parsed = load(META_ADS, meta)
    assert parsed.good["amount_spent"].to_list() == [Decimal("1.204")]
    assert parsed.good["frequency"].to_list() == [1.73]
    semicolon = "sku;supplier;unit_cost;moq_units;case_pack\nS1;Acme;1.204;1;1\n"
    got, _ = costs(semicolon)
    assert got == [Decimal(1204)]  # ';' file: decimal comma, so the point groups


def test_int_three_digit_group_is_thousands():
    text = ("Day,Campaign,Ad group,Currency code,Cost,Impr.,Clicks\n"
            '2026-11-01,Brand,Exact,USD,3.10,"1,204",1\n')
    _, parsed = load(GOOGLE_ADS, text)
    assert parsed.good["impressions"].to_list() == [1204]


def test_a_column_mixing_both_conventions_is_quarantined():
    got, bad = costs(SKU + 'S1,Acme,"12,50",1,1\nS2,Acme,3.20,1,1\nS3,Acme,7,1,1\n')
    assert got == [Decimal(7)]
    assert bad["source_row"].to_list() == [1, 2]
    assert bad["reason"][0] == (
        "column 'unit_cost': '12,50' cannot be read safely: this column mixes decimal commas "
        "('12,50') and decimal points ('3.20'), so a value with a separator could be 100 "
        "times off; export the file again and load it as downloaded (do not open and save "
        "it in a spreadsheet)")


@pytest.mark.parametrize("cell", ["--", " --", "-", "—", "< 10%", "> 90%", "N/A", "n/a", "NA",
                                  "null", ""])
def test_placeholders_are_null(cell):
    got, bad = costs(SKU + f"S1,Acme,9.99,{cell},1\n")
    assert bad.height == 0
    assert got == [Decimal("9.99")]


def test_google_row_with_placeholder_ratios_loads_with_its_cost():
    text = ("Day,Campaign,Ad group,Currency code,Cost,Impr.,Clicks,CTR,Search impr. share,"
            "Conversions\n"
            "2026-11-01,Brand,Exact,USD,12.40,0,0,--,< 10%,--\n"
            "2026-11-02,Brand,Exact,USD,3.10,100,1,< 10%,< 10%,1\n")
    _, parsed = load(GOOGLE_ADS, text)
    assert parsed.bad.height == 0
    rows = parsed.good.sort("day").select("cost", "ctr", "conversions").rows()
    assert rows == [(Decimal("12.40"), None, None), (Decimal("3.10"), None, 1.0)]


def test_summary_rows_need_the_marker_and_empty_dimensions():
    text = ("Day,Campaign,Ad group,Currency code,Cost\n"
            "2026-11-01,Total reach,Exact,USD,1.00\n"
            "Total: Account,,,USD,1.00\n"
            "Total: Campaigns,,,USD,1.00\n"
            "Total: Search, --,--,USD,1.00\n"
            "Total,Brand,Exact,USD,1.00\n")
    read, parsed = load(GOOGLE_ADS, text)
    # Google writes `--` in the dimension cells of its total rows: still a summary.
    assert read.summary_rows == 3
    assert parsed.good["campaign"].to_list() == ["Total reach"]
    # A first cell `Total` with its dimensions filled is data (its Day is then bad).
    assert parsed.bad["source_row"].to_list() == [5]
    approvals = "sku,product,approved_qty\nTOTALBAG-1,Tote,3\nTotal,,\n"
    read, parsed = load(APPROVALS, approvals)
    assert (read.summary_rows, parsed.good["sku"].to_list()) == (1, ["TOTALBAG-1"])


META_NOT_DAILY = (
    "Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Amount spent (USD)\n"
    "2026-11-01,2026-11-22,Prospecting,Broad,Towel,640.00\n"
    "2026-11-01,2026-11-22,Retargeting,Visitors,Candle,210.00\n")


def test_meta_export_without_daily_breakdown_is_rejected_saying_what_is_left_out():
    with pytest.raises(FileRejected) as exc:
        load(META_ADS, META_NOT_DAILY, name="meta_ads/meta_november.csv")
    assert str(exc.value) == (
        "meta_ads/meta_november.csv is a Meta Ads Manager export without a daily breakdown: "
        "its 2 rows each cover 2026-11-01 to 2026-11-22 (850.00 USD spent in all), so spend "
        "cannot be put on days and none of it is loaded. In Ads Manager choose Breakdown > "
        "By time > Day, then export again.")


def test_meta_rows_spanning_days_among_daily_rows_are_quarantined():
    text = META_NOT_DAILY + "2026-11-03,2026-11-03,Prospecting,Broad,Towel,5.00\n"
    _, parsed = load(META_ADS, text)
    assert parsed.good["amount_spent"].to_list() == [Decimal("5.00")]
    assert parsed.bad["column_name"].to_list() == ["Reporting ends", "Reporting ends"]
    assert parsed.bad["reason"][0].startswith(
        "column 'Reporting ends': this row covers 2026-11-01 to 2026-11-22 and has no Day")


def test_rows_text():
    assert rows_text([1, 2, 3]) == "rows 1-3"
    assert rows_text([4]) == "row 4"
    assert rows_text([1, 4, 9]) == "rows 1, 4 and 9"
    assert rows_text([1, 4, 9, *range(20, 44, 2)]) == "rows 1, 4, 9 and 12 more"
    assert rows_text([1, 4, 9, *range(20, 32)]) == "rows 1, 4, 9 and 20-31"


ORDERS = ("Name,Email,Currency,Total,Created at,Lineitem quantity,Lineitem price,Lineitem sku,"
          "Id\n")


def test_scientific_notation_ids_warn_and_still_load():
    text = ORDERS + "".join(
        f"#600{i},a@x.com,USD,10,2026-11-2{i} 10:00:00 -0500,1,10,SOP-OAT,5.81234E+12\n"
        for i in (1, 2, 3))
    _, parsed = load(SHOPIFY_ORDERS, text)
    assert parsed.good.height == 3
    assert parsed.good["id"].to_list() == ["5.81234E+12"] * 3
    assert parsed.warnings == [
        ("column 'Id' holds 5.81234E+12 on rows 1-3: a spreadsheet turned the 13-digit order "
        "ids into scientific notation and lost digits. Orders are keyed on Name instead. "
        "Export again from Shopify and load the file as downloaded (do not open and save it "
        "in a spreadsheet)")]


def test_offsets_the_store_timezone_never_has_warn_with_fitting_zones():
    text = ORDERS + (
        "#7001,a@x.com,EUR,24,2026-11-21 00:30:00 +0100,1,24,CND,1\n"
        "#7003,a@x.com,EUR,10,2026-11-22 01:10:00 +0100,1,10,SOP,2\n")
    _, parsed = load(SHOPIFY_ORDERS, text, timezone_configured=False)
    assert parsed.warnings == [
        ("every timestamp carries +01:00, which America/New_York never has on these dates. "
        "The store timezone is the default (storeops.yml sets no `timezone`): add "
        "`timezone: <zone>` to storeops.yml; zones that fit these offsets: Europe/Berlin, "
        "Europe/Paris, Europe/Amsterdam, …")]
    _, parsed = load(SHOPIFY_ORDERS, text, timezone_configured=True)
    assert parsed.warnings[0].split(". ")[1].startswith(
        "storeops.yml sets timezone: America/New_York")
    _, parsed = load(SHOPIFY_ORDERS, text, timezone="Europe/Berlin")
    assert parsed.warnings == []


def test_export_window_start_is_the_setting():
    from datetime import datetime
    old = ORDERS + "#900,a@x.com,USD,24,2004-03-10 11:00:00 -0500,1,24,CND,1\n"
    _, parsed = load(SHOPIFY_ORDERS, old, not_after=datetime(2026, 11, 23))
    assert parsed.good["name"].to_list() == ["#900"]
    _, parsed = load(SHOPIFY_ORDERS, old, not_after=datetime(2026, 11, 23),
                     window_start=date(2005, 1, 1))
    assert parsed.bad["reason"].to_list() == [
        ("column 'Created at': '2004-03-10 11:00:00 -0500' is before export_window_start "
        "(2005-01-01 in storeops.yml): set an earlier date there if this is imported history")]
