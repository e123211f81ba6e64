"""The account and amount rules of api.md, on the request models."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cnop_user.models import AmountRequest, ProfileUpdate, RegisterRequest
from cnop_user.validation import check_birth_date

pytestmark = pytest.mark.unit

VALID = {
    "username": "Alice_01",
    "email": "Alice@Example.COM",
    "password": "Str0ng!Passw0rd",
    "first_name": "Mary-Jane",
    "last_name": "O'Brien",
}


def build(**changes):
    return RegisterRequest.model_validate({**VALID, **changes})


def test_valid_registration_is_normalised():
    request = build(phone="+1 (555) 123-4567")
    assert request.username == "alice_01"
    assert request.email == "alice@example.com"
    assert request.phone == "15551234567"
    assert request.marketing_emails_consent is False


@pytest.mark.parametrize(
    "username", ["short", "x" * 31, "has space", "dash-name", "émilie_1", "", "semi;colon"]
)
def test_bad_usernames(username):
    with pytest.raises(ValidationError):
        build(username=username)


@pytest.mark.parametrize(
    "password",
    [
        "Sh0rt!pass",  # 10 characters
        "alllowercase1!",  # no upper
        "ALLUPPERCASE1!",  # no lower
        "NoDigitsHere!!",  # no digit
        "NoSpecials1234",  # no special
        "A1!" + "a" * 126,  # 129 characters
    ],
)
def test_bad_passwords(password):
    with pytest.raises(ValidationError):
        build(password=password)


def test_password_error_does_not_echo_the_password():
    with pytest.raises(ValidationError) as caught:
        build(password="NoSpecials1234")
    assert "one of" in str(caught.value)


@pytest.mark.parametrize("name", ["", "x" * 51, "R2D2", "Anna_Maria", "  ", "Ann!"])
def test_bad_names(name):
    with pytest.raises(ValidationError):
        build(first_name=name)


def test_names_may_use_letters_of_any_script():
    assert build(first_name="Zoë", last_name="Łukasz-Żak").last_name == "Łukasz-Żak"


@pytest.mark.parametrize("phone", ["123456789", "1" * 16, "555-CALL-NOW", "+1 555 12"])
def test_bad_phones(phone):
    with pytest.raises(ValidationError):
        build(phone=phone)


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com"])
def test_bad_emails(email):
    with pytest.raises(ValidationError):
        build(email=email)


@pytest.mark.parametrize(
    "field_value",
    [
        ("first_name", "<script>alert(1)</script>"),
        ("last_name", "<iframe src=x>"),
        ("username", "javascript:alert"),
        ("email", "<script>@x.com"),
        ("password", "Aa1!<script>xxxx"),
        ("phone", "<img src=x onerror=alert(1)>"),
    ],
)
def test_markup_in_any_text_field_is_rejected(field_value):
    field, value = field_value
    with pytest.raises(ValidationError) as caught:
        build(**{field: value})
    assert "markup" in str(caught.value)


def test_age_limits():
    today = date(2026, 6, 15)
    assert check_birth_date(date(2013, 6, 15), today)  # exactly 13
    assert check_birth_date(date(1906, 6, 16), today)  # 119
    with pytest.raises(ValueError, match="13 and 120"):
        check_birth_date(date(2013, 6, 16), today)  # a day short of 13
    with pytest.raises(ValueError, match="13 and 120"):
        check_birth_date(date(1905, 6, 14), today)  # 121


def test_future_birth_date_rejected():
    with pytest.raises(ValidationError):
        build(date_of_birth=(date.today() + timedelta(days=1)).isoformat())


def test_profile_update_needs_a_field():
    with pytest.raises(ValidationError):
        ProfileUpdate.model_validate({})
    assert ProfileUpdate.model_validate({"first_name": "Bob"}).model_fields_set == {"first_name"}


@pytest.mark.parametrize("field", ["first_name", "last_name", "email"])
def test_a_required_profile_field_cannot_be_cleared(field):
    # An e-mail set to null would also leave its claim in the e-mail table behind.
    with pytest.raises(ValidationError, match=f"{field} cannot be null"):
        ProfileUpdate.model_validate({field: None})


def test_optional_profile_fields_can_be_cleared():
    update = ProfileUpdate.model_validate({"phone": None, "date_of_birth": None})
    assert update.phone is None
    assert update.date_of_birth is None


@pytest.mark.parametrize("amount", ["10", "0.01", 1000000, Decimal("99.99"), "007.50"])
def test_good_amounts(amount):
    assert AmountRequest.model_validate({"amount": amount}).amount == Decimal(str(amount))


@pytest.mark.parametrize(
    "amount",
    [
        0,
        "-1",
        "0.001",
        "1000000.01",
        True,
        "NaN",
        "Infinity",
        "ten",
        None,
        [],
        {},
        # exponents, other scripts' digits and separators: one grammar, no surprises
        "1e2",
        "1E+2",
        "1e-999999999",
        "١٠",
        "1_0",
        " 10",
    ],
)
def test_bad_amounts(amount):
    with pytest.raises(ValidationError):
        AmountRequest.model_validate({"amount": amount})


@pytest.mark.parametrize(
    "written", [0, "0", 19900203, "1990-2-3", "1990-02-03T00:00:00", "03/02/1990", True]
)
def test_a_birth_date_is_only_ever_written_yyyy_mm_dd(written):
    """pydantic's lax date took 0 (and "0") as 1970-01-01: api.md says YYYY-MM-DD."""
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        build(date_of_birth=written)
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        ProfileUpdate(date_of_birth=written)
    assert build(date_of_birth="1990-02-03").date_of_birth == date(1990, 2, 3)


@pytest.mark.parametrize("said", ["yes", "true", 1, 0, "1", "on"])
def test_consent_is_a_json_boolean_not_a_word_or_a_number(said):
    with pytest.raises(ValidationError):
        build(marketing_emails_consent=said)
    assert build(marketing_emails_consent=True).marketing_emails_consent is True
