async def test_customer_creates_and_lists(customer):
    created = await customer.post("/customer/tickets", json={"title": "Refund not received"})
    assert created.status_code == 201, created.text
    listed = await customer.get("/customer/tickets")
    assert listed.json()["count"] == 1


async def test_tables_are_reset_between_tests(customer):
    listed = await customer.get("/customer/tickets")
    assert listed.json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "page": 1,
        "page_size": 20,
        "results": [],
    }
