"""The user service's routes against real processes and the real local store."""

from decimal import Decimal

import pytest

from tests.helpers import Clients, registration, unique_username

pytestmark = pytest.mark.integration


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["detail"]
    return body


def test_register_then_profile(anonymous: Clients, local_platform):
    username = unique_username("Reg")
    body = registration(
        username,
        email=f"{username.upper()}@Example.com",
        phone="(555) 123-4567",
        date_of_birth="1990-02-03",
        marketing_emails_consent=True,
    )
    response = anonymous.user.post("/auth/register", json=body)
    assert response.status_code == 201
    assert response.json() == {"message": "User registered successfully"}
    me = Clients(local_platform, username.lower())
    profile = me.user.get("/auth/profile").json()
    assert profile["username"] == username.lower()
    assert profile["email"] == f"{username.lower()}@example.com"
    assert profile["phone"] == "5551234567"
    assert profile["date_of_birth"] == "1990-02-03"
    assert profile["marketing_emails_consent"] is True
    assert profile["created_at"].endswith("Z")
    assert "password_hash" not in profile
    assert me.user.get("/balance").json()["current_balance"] == "0.00"
    me.close()


def test_duplicate_username_any_case_and_duplicate_email(alice: Clients, anonymous: Clients):
    again = registration(alice.username.upper(), email="other-" + alice.username + "@example.com")
    assert_error(anonymous.user.post("/auth/register", json=again), 409, "USER_EXISTS")
    same_email = registration(unique_username(), email=f"{alice.username}@EXAMPLE.com")
    assert_error(anonymous.user.post("/auth/register", json=same_email), 409, "USER_EXISTS")


@pytest.mark.parametrize(
    "change",
    [
        {"username": "abc"},
        {"password": "weakpassword"},
        {"email": "nope"},
        {"first_name": "<script>alert(1)</script>"},
        {"phone": "12"},
        {"date_of_birth": "2020-01-01"},
        {"date_of_birth": "1990-13-45"},
    ],
)
def test_registration_validation_is_422_without_echoing_input(anonymous: Clients, change):
    body = {**registration(unique_username()), **change}
    response = anonymous.user.post("/auth/register", json=body)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert isinstance(error["detail"], list)
    assert "Str0ng" not in response.text
    assert "Corr3ct" not in response.text
    assert all(set(item) == {"type", "loc", "msg"} for item in error["detail"])


def test_malformed_json_is_422(anonymous: Clients):
    response = anonymous.user.post(
        "/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


def test_profile_update_and_email_uniqueness(alice: Clients, funded: Clients):
    response = alice.user.put(
        "/auth/profile", json={"first_name": "Alicia", "email": "New." + alice.username + "@x.io"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Profile updated successfully"
    assert body["user"]["first_name"] == "Alicia"
    assert body["user"]["email"] == f"new.{alice.username}@x.io"
    # The old address is free again, the new one is taken.
    taken = funded.user.put("/auth/profile", json={"email": f"new.{alice.username}@x.io"})
    assert_error(taken, 409, "EMAIL_EXISTS")
    freed = funded.user.put("/auth/profile", json={"email": f"{alice.username}@example.com"})
    assert freed.status_code == 200, freed.text
    assert_error(alice.user.put("/auth/profile", json={}), 422, "VALIDATION_ERROR")
    assert_error(alice.user.put("/auth/profile", json={"last_name": "1"}), 422, "VALIDATION_ERROR")
    # A required field cannot be cleared; the e-mail it would have lost stays, and can move on.
    assert_error(alice.user.put("/auth/profile", json={"email": None}), 422, "VALIDATION_ERROR")
    assert alice.user.get("/auth/profile").json()["email"] == f"new.{alice.username}@x.io"
    moved = alice.user.put("/auth/profile", json={"email": f"third.{alice.username}@x.io"})
    assert moved.status_code == 200, moved.text


def test_deposit_withdraw_and_history(alice: Clients):
    first = alice.user.post("/balance/deposit", json={"amount": 100.1})
    assert first.status_code == 201
    body = first.json()
    assert body["success"] is True
    assert body["message"] == "Successfully deposited $100.10"
    assert body["transaction_id"].startswith("txn_")
    assert body["timestamp"].endswith("Z")
    assert alice.user.post("/balance/deposit", json={"amount": "0.20"}).status_code == 201
    withdrawn = alice.user.post("/balance/withdraw", json={"amount": "50.05"})
    assert withdrawn.status_code == 201
    assert withdrawn.json()["message"] == "Successfully withdrew $50.05"
    # Floats would give 50.249999...; decimals give exactly 50.25.
    assert alice.user.get("/balance").json()["current_balance"] == "50.25"
    history = alice.user.get("/balance/transactions").json()
    assert history["total_count"] == 3
    assert history["has_more"] is False
    assert [t["transaction_type"] for t in history["transactions"]] == [
        "withdraw",
        "deposit",
        "deposit",
    ]
    assert [t["amount"] for t in history["transactions"]] == ["-50.05", "0.20", "100.10"]
    page = alice.user.get("/balance/transactions", params={"limit": 1, "offset": 1}).json()
    assert [t["amount"] for t in page["transactions"]] == ["0.20"]
    assert page["has_more"] is True
    assert page["total_count"] == 3


def test_withdraw_more_than_balance_is_refused_and_changes_nothing(alice: Clients):
    alice.user.post("/balance/deposit", json={"amount": "10.00"})
    assert_error(
        alice.user.post("/balance/withdraw", json={"amount": "10.01"}), 422, "INSUFFICIENT_BALANCE"
    )
    assert alice.user.get("/balance").json()["current_balance"] == "10.00"
    assert alice.user.get("/balance/transactions").json()["total_count"] == 1


@pytest.mark.parametrize(
    "amount", [0, -5, "0.001", "1000000.01", "abc", None, True, "NaN", "1e400"]
)
def test_bad_amounts_are_422(alice: Clients, amount):
    response = alice.user.post("/balance/deposit", json={"amount": amount})
    assert_error(response, 422, "VALIDATION_ERROR")


def test_daily_deposit_limit(alice: Clients):
    assert alice.user.post("/balance/deposit", json={"amount": "9999.99"}).status_code == 201
    assert alice.user.post("/balance/deposit", json={"amount": "0.01"}).status_code == 201
    assert_error(
        alice.user.post("/balance/deposit", json={"amount": "0.01"}), 422, "DAILY_LIMIT_EXCEEDED"
    )
    assert_error(
        alice.user.post("/balance/deposit", json={"amount": "10000.01"}),
        422,
        "DAILY_LIMIT_EXCEEDED",
    )
    assert alice.user.get("/balance").json()["current_balance"] == "10000.00"


def test_daily_withdraw_limit(alice: Clients):
    alice.user.post("/balance/deposit", json={"amount": "8000"})
    assert alice.user.post("/balance/withdraw", json={"amount": "5000"}).status_code == 201
    assert_error(
        alice.user.post("/balance/withdraw", json={"amount": "0.01"}), 422, "DAILY_LIMIT_EXCEEDED"
    )
    assert Decimal(alice.user.get("/balance").json()["current_balance"]) == Decimal("3000")


def test_idempotent_deposit_and_key_reuse(alice: Clients):
    headers = {"Idempotency-Key": "dep-1"}
    first = alice.user.post("/balance/deposit", json={"amount": "25"}, headers=headers)
    repeat = alice.user.post("/balance/deposit", json={"amount": 25.0}, headers=headers)
    assert first.status_code == repeat.status_code == 201
    assert first.json() == repeat.json()
    assert alice.user.get("/balance").json()["current_balance"] == "25.00"
    other = alice.user.post("/balance/deposit", json={"amount": "26"}, headers=headers)
    assert_error(other, 409, "IDEMPOTENCY_KEY_REUSED")


def test_a_key_reused_on_another_endpoint_is_refused_and_moves_nothing(alice: Clients):
    headers = {"Idempotency-Key": "one-request"}
    assert (
        alice.user.post("/balance/deposit", json={"amount": "30"}, headers=headers).status_code
        == 201
    )
    elsewhere = alice.user.post("/balance/withdraw", json={"amount": "30"}, headers=headers)
    assert_error(elsewhere, 409, "IDEMPOTENCY_KEY_REUSED")
    assert "another endpoint" in elsewhere.json()["detail"]
    assert alice.user.get("/balance").json()["current_balance"] == "30.00"


def test_idempotent_refusal_is_replayed(alice: Clients):
    headers = {"Idempotency-Key": "wd-1"}
    refused = alice.user.post("/balance/withdraw", json={"amount": "5"}, headers=headers)
    assert_error(refused, 422, "INSUFFICIENT_BALANCE")
    alice.user.post("/balance/deposit", json={"amount": "100"})
    again = alice.user.post("/balance/withdraw", json={"amount": "5"}, headers=headers)
    assert again.status_code == 422
    assert again.json() == refused.json()
    assert alice.user.get("/balance").json()["current_balance"] == "100.00"


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_bad_idempotency_key_is_422(alice: Clients, key):
    response = alice.user.post(
        "/balance/deposit", json={"amount": "1"}, headers={"Idempotency-Key": key}
    )
    assert_error(response, 422, "VALIDATION_ERROR")


def test_asset_balance_validation_and_absence(alice: Clients):
    assert_error(alice.user.get("/balance/asset/BTC"), 404, "ASSET_BALANCE_NOT_FOUND")
    assert_error(alice.user.get("/balance/asset/TOOLONGASSET"), 422, "VALIDATION_ERROR")
    assert_error(alice.user.get("/balance/asset/B-C"), 422, "VALIDATION_ERROR")


def test_empty_portfolio(alice: Clients):
    assert alice.user.get("/portfolio").json() == {
        "cash_balance": "0.00",
        "total_value": "0.00",
        "assets": [],
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/auth/profile"),
        ("GET", "/balance"),
        ("GET", "/portfolio"),
        ("POST", "/balance/deposit"),
    ],
)
def test_protected_routes_need_a_user(anonymous: Clients, method, path):
    response = anonymous.user.http.request(method, path, json={"amount": "1"})
    assert_error(response, 403, "UNTRUSTED_SOURCE")


def test_unknown_path_and_wrong_method(alice: Clients):
    assert_error(alice.user.get("/nope"), 404, "NOT_FOUND")
    assert_error(alice.user.http.delete("/balance"), 405, "METHOD_NOT_ALLOWED")
