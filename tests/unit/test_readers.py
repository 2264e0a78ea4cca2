"""Readers and typing on small hand-written files in each vendor format (no disk, no DuckDB)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from orchestration.ingest.parse import parse_frame
from orchestration.ingest.readers import (
    FileRejected,
    decode,
    read_csv_text,
    read_jsonl_text,
    spec_for_shared_folder,
)
from quality.specs import (
    ANALYTICS_PROMOTIONS,
    ANALYTICS_SESSIONS,
    GOOGLE_ADS,
    GORGIAS_TICKETS,
    META_ADS,
    PURCHASING_PURCHASE_ORDERS,
    PURCHASING_SUPPLIERS,
    SHOPIFY_INVENTORY,
    SHOPIFY_ORDERS,
    SHOPIFY_PRODUCTS,
    TIKTOK_ADS,
    ZENDESK_TICKETS,
)

TZ = "America/New_York"


def load(spec, text, name="f.csv"):
    read = read_csv_text(spec, text, name)
    parsed = parse_frame(spec, read.frame, read.header, timezone=TZ)
    assert read.rows_in == parsed.good.height + parsed.bad.height
    return read, parsed


SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Currency,Subtotal,Shipping,Taxes,"
    "Total,Discount Code,Discount Amount,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Lineitem sku,Note Attributes,Refunded Amount,Source\n"
)


def test_shopify_orders_bom_first_line_fields_quoted_newlines_and_blank_tail():
    text = decode(
        "\ufeff".encode() + (
            SHOPIFY_HEADER
            + '#1001,ana@example.com,paid,2026-11-01 09:14:55 -0500,fulfilled,USD,"$1,030.00",'
              '5.00,0,"$1,035.00",BFCM20,20.00,2026-11-01 09:14:55 -0500,2,"Tee, organic",'
              '500.00,SKU-0001-M,"utm_source: facebook\nutm_medium: paid",0.00,web\n'
            + "#1001,ana@example.com,paid,,fulfilled,,,,,,,,2026-11-01 09:14:55 -0500,1,Mug,"
              "30.00,SKU-0002-OS,,,\n"
            + "#1002,bo@example.com,refunded,2026-07-04 12:00:00 -0400,,USD,10,0,0,10,,,"
              "2026-07-04 12:00:00 -0400,1,Mug,10.00,SKU-0002-OS,,10.00,web\n\n\n"
        ).encode(),
        "orders.csv",
    )
    read, parsed = load(SHOPIFY_ORDERS, text)
    assert read.rows_in == 3 and parsed.bad.height == 0
    good = parsed.good.sort("_source_row")
    first = good.row(0, named=True)
    assert first["subtotal"] == Decimal(1030)
    assert first["total"] == Decimal(1035)
    assert first["lineitem_name"] == "Tee, organic"
    assert first["note_attributes"] == "utm_source: facebook\nutm_medium: paid"
    # -0500 in November, -0400 in July: both stored as UTC.
    assert first["created_at"] == datetime(2026, 11, 1, 14, 14, 55)
    assert good.row(2, named=True)["created_at"] == datetime(2026, 7, 4, 16, 0, 0)
    # Order-level money only on the first line: later lines are null, not zero, not quarantined.
    assert good.row(1, named=True)["total"] is None
    assert good["_source_row"].to_list() == [1, 2, 3]


def test_shopify_bad_line_quarantines_the_whole_order_with_file_row_and_column():
    text = (
        SHOPIFY_HEADER
        + "#1001,a@example.com,paid,,,USD,10,0,0,10,,,2026-11-01 09:14:55 -0500,1,Mug,10,SKU-2,,,\n"
        + "#1002,b@example.com,paid,,,USD,20,0,0,20,,,2026-11-01 10:00:00 -0500,1,Mug,10,SKU-2,,,\n"
        + "#1002,b@example.com,paid,,,,,,,,,,,two,Mug,10,SKU-2,,,\n"
    )
    _, parsed = load(SHOPIFY_ORDERS, text)
    assert parsed.good["name"].to_list() == ["#1001"]
    bad = parsed.bad.sort("source_row")
    assert bad["source_row"].to_list() == [2, 3]
    assert bad["column_name"].to_list() == ["Lineitem quantity", "Lineitem quantity"]
    assert bad["reason"][1] == "column 'Lineitem quantity': 'two' is not a whole number"
    assert bad["reason"][0].startswith("another row of Name '#1002' failed")
    assert '"Lineitem quantity":"two"' in bad["original_row"][1]


def test_shopify_first_row_without_created_at_is_quarantined():
    text = SHOPIFY_HEADER + "#1001,a@example.com,paid,,,USD,10,0,0,10,,,,1,Mug,10,SKU-2,,,\n"
    _, parsed = load(SHOPIFY_ORDERS, text)
    assert parsed.bad["reason"].to_list() == ["column 'Created at': value is missing"]


def test_google_ads_title_lines_thousands_separators_percent_and_total_rows():
    text = (
        "Campaign performance report\n"
        '"November 1, 2026 - November 30, 2026"\n'
        "Day,Campaign,Ad group,Currency code,Cost,Impr.,Clicks,CTR,Avg. CPC,Conversions,"
        "Conv. value,Cost / conv.\n"
        '2026-11-01,Brand,Exact,USD,"1,204.50","12,000",120,1.00%,10.04,12,"2,400.00",100.38\n'
        "2026-11-02,Brand,Exact,USD,3.10,100,1,1.00%,3.10,0,0,--\n"
        'Total: Account,,,USD,"1,207.60","12,100",121,1.00%,,,,\n'
        'Total: Search,,,USD,"1,207.60","12,100",121,1.00%,,,,\n'
    )
    read, parsed = load(GOOGLE_ADS, text)
    assert read.summary_rows == 2 and read.rows_in == 2
    assert read.notes == ["skipped 2 title line(s) above the header"]
    good = parsed.good.sort("day")
    assert good.row(0, named=True)["cost"] == Decimal("1204.5")
    assert good.row(0, named=True)["impressions"] == 12000
    assert good.row(0, named=True)["ctr"] == pytest.approx(0.01)
    # "--" is Google's "no value": NULL, and the row loads with its cost.
    assert parsed.bad.height == 0
    assert good.row(1, named=True)["cost_conv"] is None
    assert good.row(1, named=True)["cost"] == Decimal("3.10")


def test_meta_currency_in_column_name_and_reporting_dates():
    text = (
        "Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Amount spent (EUR),"
        "Impressions,Reach,Link clicks,Results,Result indicator\n"
        "2026-11-01,2026-11-01,Prospecting,Broad,Video 1,12.34,1000,900,15,2,"
        "actions:offsite_conversion.fb_pixel_purchase\n"
    )
    _, parsed = load(META_ADS, text)
    row = parsed.good.row(0, named=True)
    assert row["amount_spent"] == Decimal("12.34")
    assert row["currency"] == "EUR"
    assert row["reporting_starts"] == date(2026, 11, 1)
    assert row["day"] is None  # optional column absent: null, not an error


def test_meta_file_without_spend_column_is_rejected_naming_the_column():
    text = "Reporting starts,Reporting ends,Campaign name,Impressions\n2026-11-01,2026-11-01,x,1\n"
    with pytest.raises(FileRejected, match=r"missing required column\(s\) 'Amount spent \(CUR\)'"):
        read_csv_text(META_ADS, text, "meta_ads/nov.csv")


def test_tiktok_date_alias_and_extra_columns_kept():
    text = "Date,Campaign name,Cost,Impressions,Video views\n2026-11-01,Spark,4.50,1000,300\n"
    _, parsed = load(TIKTOK_ADS, text)
    row = parsed.good.row(0, named=True)
    assert row["by_day"] == date(2026, 11, 1)
    assert row["video_views"] == "300"  # unknown vendor column: kept as text


def test_zendesk_local_times_empty_solved_at_and_csat_words():
    text = (
        "Id,Requester,Requester email,Subject,Tags,Status,Created at,Solved at,"
        "Satisfaction Score,First reply time in minutes\n"
        "101,Ana,Ana.Lopez@Example.com ,Where is my order #1042?,wismo order-status,open,"
        "2026-11-01 09:00:00,,Offered,35\n"
        "102,Bo,bo@example.com,Return,return,solved,2026-07-01 09:00:00,2026-07-02 10:00:00,Good,\n"
    )
    _, parsed = load(ZENDESK_TICKETS, text)
    good = parsed.good.sort("id")
    assert good["created_at"].to_list() == [datetime(2026, 11, 1, 14), datetime(2026, 7, 1, 13)]
    assert good["solved_at"].to_list() == [None, datetime(2026, 7, 2, 14)]
    assert good["satisfaction_score"].to_list() == ["Offered", "Good"]
    # Emails are stored as written; normalisation is the customer layer's job.
    assert good["requester_email"][0] == "Ana.Lopez@Example.com"


def test_gorgias_nested_json_lines_and_a_broken_line():
    text = (
        '{"id": 1, "subject": "Where is my order #1042?", "status": "closed", "channel": "email",'
        ' "created_datetime": "2026-11-02T09:14:03.000000+00:00", "closed_datetime": null,'
        ' "tags": [{"id": 11, "name": "order-status"}, {"id": 12, "name": "urgent"}],'
        ' "customer": {"id": 998, "email": "ana@example.com", "name": "Ana"},'
        ' "satisfaction_survey": {"score": 5}, "messages_count": 3}\n'
        "\n"
        '{"id": 2, "subject": "broken\n'
        '{"id": 3, "created_datetime": "2026-11-02T10:00:00Z", "tags": []}\n'
    )
    read, bad_lines = read_jsonl_text(GORGIAS_TICKETS, text, "g.jsonl")
    assert read.rows_in == 3
    assert [b["source_row"] for b in bad_lines] == [2]
    parsed = parse_frame(GORGIAS_TICKETS, read.frame, read.header, timezone=TZ)
    good = parsed.good.sort("id")
    assert good["tags"].to_list() == ["order-status,urgent", None]
    assert good["customer_email"].to_list() == ["ana@example.com", None]
    assert good["satisfaction_survey_score"].to_list() == [5.0, None]
    assert good["created_datetime"].to_list() == [datetime(2026, 11, 2, 9, 14, 3),
                                                  datetime(2026, 11, 2, 10)]


def test_inventory_older_header_without_suffixes():
    text = (
        "as_of,Handle,Title,SKU,Location,Incoming,Unavailable,Committed,Available,On hand\n"
        "2026-10-01,tee,Tee,SKU-1,Main Warehouse,0,0,2,8,10\n"
    )
    _, parsed = load(SHOPIFY_INVENTORY, text)
    row = parsed.good.row(0, named=True)
    assert (row["incoming"], row["committed"], row["available"], row["on_hand"]) == (0, 2, 8, 10)
    assert row["as_of"] == date(2026, 10, 1)


def test_products_money_and_booleans():
    text = (
        "Handle,Title,Vendor,Published,Variant SKU,Variant Price,Variant Compare At Price,"
        "Cost per item,Status\n"
        "tee,Tee,Acme,TRUE,SKU-1,$19.99,,7.50,active\n"
        "tee,,,,SKU-2,abc,,7.50,active\n"
    )
    _, parsed = load(SHOPIFY_PRODUCTS, text)
    assert parsed.good.row(0, named=True)["published"] is True
    assert parsed.good.row(0, named=True)["variant_price"] == Decimal("19.99")
    assert parsed.bad["column_name"].to_list() == ["Variant Price"]


def test_semicolon_delimited_export_is_read():
    text = "date;channel;sessions\n2026-11-01;meta;1200\n"
    read, parsed = load(ANALYTICS_SESSIONS, text)
    assert read.notes == ["delimiter ';'"]
    assert parsed.good["sessions"].to_list() == [1200]


def test_header_only_file_has_no_rows_and_no_error():
    read, parsed = load(ANALYTICS_PROMOTIONS, "name,starts_on,ends_on,skus,collection,expected_uplift\n")
    assert read.rows_in == 0 and parsed.good.height == 0


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file_is_rejected(text):
    with pytest.raises(FileRejected, match="is empty"):
        read_csv_text(PURCHASING_SUPPLIERS, text, "purchasing/suppliers.csv")


def test_non_utf8_file_is_rejected_with_line():
    with pytest.raises(FileRejected, match=r"not UTF-8 text \(byte 0xe9 on line 2\)"):
        decode(b"supplier,lead_time_days\nCaf\xe9,12\n", "purchasing/suppliers.csv")


def test_utf16_export_is_decoded():
    assert decode("a,b\n1,2\n".encode("utf-16"), "x.csv") == "a,b\n1,2\n"


def test_vendor_file_in_wrong_folder_names_the_right_folder():
    text = (
        "Day,Campaign,Ad group,Currency code,Cost,Impr.,Clicks\n2026-11-01,Brand,x,USD,1,1,1\n"
    )
    with pytest.raises(FileRejected, match=r"looks like a Google Ads report: move it to google_ads/"):
        read_csv_text(ZENDESK_TICKETS, text, "zendesk/report.csv")


def test_shared_folder_files_are_told_apart_by_header():
    candidates = [PURCHASING_SUPPLIERS, PURCHASING_PURCHASE_ORDERS]
    po = "po_number,supplier,sku,qty_ordered,qty_received,ordered_at,expected_at,received_at,status\n"
    assert spec_for_shared_folder(candidates, po, "p.csv") is PURCHASING_PURCHASE_ORDERS
    with pytest.raises(FileRejected, match="matches none of the files expected here"):
        spec_for_shared_folder(candidates, "foo,bar\n1,2\n", "purchasing/x.csv")


def test_numbers_with_symbols_parentheses_and_non_numbers():
    text = (
        "po_number,supplier,sku,qty_ordered,qty_received,ordered_at,expected_at,received_at,status\n"
        "PO-1,Acme,SKU-1,\"1,200\",0,2026-11-01,11/15/2026,,open\n"
        "PO-2,Acme,SKU-1,nan,0,2026-11-01,2026-11-15,,open\n"
        "PO-3,Acme,SKU-1,12.5,0,2026-11-01,2026-11-15,,open\n"
        "PO-4,Acme,SKU-1,5,0,01.11.2026,2026-11-15,,open\n"
    )
    _, parsed = load(PURCHASING_PURCHASE_ORDERS, text)
    assert parsed.good.row(0, named=True)["qty_ordered"] == 1200
    assert parsed.good.row(0, named=True)["expected_at"] == date(2026, 11, 15)
    assert parsed.bad.sort("source_row")["column_name"].to_list() == [
        "qty_ordered", "qty_ordered", "ordered_at"
    ]


def test_money_parentheses_are_negative():
    text = "sku,supplier,unit_cost\nSKU-1,Acme,(12.50)\n"
    from quality.specs import PURCHASING_SKU_SUPPLIERS

    _, parsed = load(PURCHASING_SKU_SUPPLIERS, text)
    assert parsed.good["unit_cost"].to_list() == [Decimal("-12.5")]


def test_duplicated_header_cells_do_not_overwrite_each_other():
    text = "date,channel,sessions,sessions\n2026-11-01,meta,10,11\n"
    _, parsed = load(ANALYTICS_SESSIONS, text)
    assert parsed.good.select("sessions", "sessions_1").row(0) == (10, "11")


def test_zendesk_time_in_the_spring_forward_gap_uses_the_offset_before_the_change():
    text = ("Id,Requester email,Status,Created at\n"
            "1,a@example.com,open,2025-03-09 02:52:46\n"
            "2,a@example.com,open,2025-11-02 01:30:00\n")
    _, parsed = load(ZENDESK_TICKETS, text)
    assert parsed.bad.height == 0
    # 02:52 EST (-5) does not exist on the clock, 01:30 happens twice: the earlier (EDT) is used.
    assert parsed.good.sort("id")["created_at"].to_list() == [
        datetime(2025, 3, 9, 7, 52, 46), datetime(2025, 11, 2, 5, 30)
    ]


# Regressions found by tests/integration/test_fuzz_ingest.py.


def test_cut_off_utf16_and_utf8_files_are_refused_with_a_message_not_a_traceback():
    utf16 = "date,channel,sessions\n2026-11-01,meta,10\n".encode("utf-16")
    with pytest.raises(FileRejected, match="UTF-16 .* cut off"):
        decode(utf16[:-1], "analytics/sessions.csv")
    with pytest.raises(FileRejected, match="ends in the middle of a character .*cut off"):
        decode("name\nCafé".encode()[:-1], "analytics/promotions.csv")


def test_vendor_headers_match_whatever_their_case_and_spacing():
    inventory = ("sku,LOCATION,incoming (not editable),Unavailable  (not editable),"
                 "Committed (Not Editable), Available (not editable) ,ON HAND\nA,Main,1,2,3,4,5\n")
    read = read_csv_text(SHOPIFY_INVENTORY, inventory, "inventory_2026-11-01.csv")
    assert read.frame.drop("_source_row").columns == [
        "sku", "location", "incoming", "unavailable", "committed", "available", "on_hand"]
    meta = read_csv_text(META_ADS, "reporting starts,Reporting Ends,CAMPAIGN NAME,"
                         "amount spent (EUR)\n2026-11-01,2026-11-01,c,1\n", "m.csv")
    assert meta.frame["currency"].to_list() == ["EUR"]
    # Before the fix `IMPR.` became an unknown text column and impressions loaded as null.
    google = read_csv_text(GOOGLE_ADS, "Day,Campaign,Currency code,Cost,IMPR.\n"
                           "2026-11-01,c,USD,1,5\n", "g.csv")
    assert google.frame["impressions"].to_list() == ["5"]


def test_an_orders_export_in_the_customers_folder_is_refused_and_not_the_other_way():
    from quality.specs import SHOPIFY_CUSTOMERS

    orders = SHOPIFY_HEADER + "#1,a@example.com,paid,,,USD,1,0,0,1,,,2026-11-01 09:00:00 -0500," \
                              "1,Mug,1.00,SKU-1,,,web\n"
    with pytest.raises(FileRejected, match="looks like a Shopify orders export, not a Shopify "
                                           "customers export: move it to shopify/orders/"):
        read_csv_text(SHOPIFY_CUSTOMERS, orders, "shopify/customers/orders.csv")
    # An orders export that lost its Name column is a broken orders export: no hint that
    # sends it to the customers folder because it has an Email column.
    with pytest.raises(FileRejected) as refused:
        read_csv_text(SHOPIFY_ORDERS, orders.replace("Name,", "Nom,", 1), "orders.csv")
    assert "missing required column(s) 'Name'" in str(refused.value)
    assert "move it to" not in str(refused.value)


def test_a_stray_or_unclosed_quote_quarantines_its_row_instead_of_refusing_the_file():
    header = "supplier,lead_time_days,lead_time_std_days,moq_units,case_pack,order_cycle_days\n"
    # A cut-off export ends inside a quoted field; a hand-typed value has a stray quote.
    text = header + 'Acme,21,3,100,12,7\nBeta,1"x,3,1,1,7\n\nGamma,5,1,1,1,7\nDelta,"2'
    read = read_csv_text(PURCHASING_SUPPLIERS, text, "purchasing/suppliers.csv")
    parsed = parse_frame(PURCHASING_SUPPLIERS, read.frame, read.header, timezone=TZ)
    assert read.rows_in == 4 == parsed.good.height + parsed.bad.height + len(read.bad_rows)
    assert parsed.good["supplier"].to_list() == ["Acme", "Gamma"]
    assert parsed.bad["source_row"].to_list() == [2]
    # The cut-off last row is the reader's own quarantine record, not a row of nulls.
    (cut,) = read.bad_rows
    assert cut["source_row"] == 5 and "never closed" in cut["reason"]
    assert '"supplier":"Delta"' in cut["original_row"]
    assert "lenient CSV reader" in read.notes[-1]


def test_a_data_line_holding_a_column_name_is_never_taken_for_the_header():
    from quality.specs import SHOPIFY_CUSTOMERS

    # sessions.csv in the customers folder: line 2 has a cell 'email', which matched the
    # customers' one required column, so four lines were skipped as "title lines".
    sessions = "date,channel,sessions\n2026-09-24,meta,139\n2026-09-24,email,105\n"
    with pytest.raises(FileRejected, match="missing required column.*'Email'"):
        read_csv_text(SHOPIFY_CUSTOMERS, sessions, "shopify/customers/sessions.csv")
