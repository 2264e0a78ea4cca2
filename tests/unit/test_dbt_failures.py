"""The rows behind a failed dbt test are named by export file, row and key."""

import duckdb
import pytest

from quality.dbt_failures import compiled_codes, locate, name_row


def _test_node(name, test_name, column, model="model.p.orders", **kwargs):
    return {
        "resource_type": "test", "name": name, "attached_node": model,
        "column_name": column, "depends_on": {"nodes": [model, *kwargs.pop("parents", [])]},
        "test_metadata": {"name": test_name, "kwargs": {"column_name": column, **kwargs}},
    }


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.orders as select * from (values
        ('#1', 'a.csv', 2, 'paid', 'c1'),
        ('#2', 'a.csv', 3, null, 'c2'),
        ('#2', 'b.csv', 7, 'weird', 'c9')
    ) as t(order_name, source_file, source_row, status, customer_id)""")
    con.execute("create table marts.customers as select * from (values ('c1'), ('c2')) as t(customer_id)")
    yield con
    con.close()


MANIFEST = {
    "nodes": {
        "model.p.orders": {"resource_type": "model", "name": "orders",
                           "relation_name": "marts.orders"},
        "model.p.customers": {"resource_type": "model", "name": "customers",
                              "relation_name": "marts.customers"},
        "test.p.unique_orders": _test_node("unique_orders", "unique", "order_name"),
        "test.p.not_null_status": _test_node("not_null_status", "not_null", "status"),
        "test.p.accepted_status": _test_node("accepted_status", "accepted_values", "status",
                                             values=["paid", "refunded"]),
        "test.p.customer_exists": _test_node(
            "customer_exists", "relationships", "customer_id", parents=["model.p.customers"],
            to="ref('customers')", field="customer_id"),
        "test.p.singular": {"resource_type": "test", "name": "singular",
                            "depends_on": {"nodes": ["model.p.orders", "model.p.customers"]}},
    },
    "sources": {},
}


def test_unique_names_every_copy_of_the_key_by_file_and_row(warehouse):
    found = locate(warehouse, MANIFEST, "test.p.unique_orders")
    assert found.total == 2 and found.model == "orders"
    assert found.where == "a.csv row 3 (order_name #2); b.csv row 7 (order_name #2)"


def test_not_null_accepted_values_and_relationships(warehouse):
    assert locate(warehouse, MANIFEST, "test.p.not_null_status").where == \
        "a.csv row 3 (order_name #2)"
    assert locate(warehouse, MANIFEST, "test.p.accepted_status").where == \
        "b.csv row 7 (order_name #2)"
    assert locate(warehouse, MANIFEST, "test.p.customer_exists").where == \
        "b.csv row 7 (order_name #2)"


def test_a_singular_test_reads_its_compiled_sql(warehouse):
    sql = "select order_name, source_file, source_row from marts.orders where source_row > 2"
    codes = compiled_codes({"results": [{"unique_id": "test.p.singular", "compiled_code": sql}]})
    found = locate(warehouse, MANIFEST, "test.p.singular", compiled_code=codes["test.p.singular"])
    assert found.where == "a.csv row 3 (order_name #2); b.csv row 7 (order_name #2)"
    # Without its SQL it says why instead of raising: dbt already reported the failure.
    missing = locate(warehouse, MANIFEST, "test.p.singular")
    assert missing.where == "" and "no compiled SQL" in missing.error


def test_more_rows_than_the_limit_are_said_to_be_more(warehouse):
    found = locate(warehouse, MANIFEST, "test.p.unique_orders", limit=1)
    assert found.total is None and len(found.rows) == 1


def test_a_row_without_a_file_is_named_by_its_key():
    assert name_row({"kpi_date": "2026-11-01", "revenue": -3}, ["kpi_date"]) == \
        "kpi_date 2026-11-01"
    assert name_row({"a": 1, "b": 2, "c": 3, "d": 4}, []) == "a 1, b 2, c 3"


def test_an_email_never_names_a_row(warehouse):
    warehouse.execute("create table marts.people as select * from (values "
                      "('a@example.com', 3)) as t(email, visits)")
    manifest = {"nodes": {
        "model.p.people": {"resource_type": "model", "name": "people",
                           "relation_name": "marts.people"},
        "test.p.few_visits": {"resource_type": "test", "name": "few_visits",
                              "depends_on": {"nodes": ["model.p.people"]}}}, "sources": {}}
    found = locate(warehouse, manifest, "test.p.few_visits",
                   compiled_code="select * from marts.people where visits > 2")
    assert found.rows == [{"visits": "3"}] and found.where == "visits 3"
