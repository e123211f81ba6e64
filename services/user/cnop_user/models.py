"""Request bodies of the user service, with the validation rules of api.md."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    model_validator,
)

from cnop_common.decimals import decimal_places, plain_decimal
from cnop_user import validation

MAX_AMOUNT = Decimal("1000000")

Username = Annotated[str, AfterValidator(validation.check_username)]
Password = Annotated[str, AfterValidator(validation.check_password)]
PersonName = Annotated[str, AfterValidator(validation.check_name)]
Phone = Annotated[str, AfterValidator(validation.check_phone)]
BirthDate = Annotated[
    date,
    BeforeValidator(validation.iso_date_text),
    AfterValidator(validation.check_birth_date),
]


def _lower_email(value: str) -> str:
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_lower_email)]


class _Body(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_markup(cls, data: Any) -> Any:
        return validation.reject_markup(data)


class RegisterRequest(_Body):
    """POST /auth/register."""

    username: Username
    email: Email
    password: Password
    first_name: PersonName
    last_name: PersonName
    phone: Phone | None = None
    date_of_birth: BirthDate | None = None
    marketing_emails_consent: StrictBool = False  # true or false, not "yes" or 1


REQUIRED_PROFILE_FIELDS = frozenset({"first_name", "last_name", "email"})


class ProfileUpdate(_Body):
    """PUT /auth/profile: only the fields given change."""

    first_name: PersonName | None = None
    last_name: PersonName | None = None
    email: Email | None = None
    phone: Phone | None = None
    date_of_birth: BirthDate | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> ProfileUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to update")
        # null clears an optional field (phone, date_of_birth); a required one
        # cannot be cleared: an account without an e-mail could never change it again.
        cleared = sorted(
            name
            for name in self.model_fields_set & REQUIRED_PROFILE_FIELDS
            if getattr(self, name) is None
        )
        if cleared:
            raise ValueError(
                f"{', '.join(cleared)} cannot be null: give a new value or leave it out"
            )
        return self


class LoginRequest(_Body):
    """POST /auth/login."""

    username: Annotated[
        str, Field(min_length=1, max_length=64), AfterValidator(lambda v: v.strip().lower())
    ]
    # Bounded so that a huge "password" cannot make Argon2 a denial of service.
    password: Annotated[str, Field(min_length=1, max_length=128)]


def _check_amount(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("amount must be greater than 0")
    if value > MAX_AMOUNT:
        raise ValueError("amount must be at most 1000000")
    if decimal_places(value) > 2:
        raise ValueError("amount must have at most 2 decimal places")
    return value


Amount = Annotated[Decimal, BeforeValidator(plain_decimal), AfterValidator(_check_amount)]


class AmountRequest(BaseModel):
    """POST /balance/deposit and /balance/withdraw."""

    model_config = ConfigDict(extra="ignore")

    amount: Amount
