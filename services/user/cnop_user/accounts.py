"""Accounts: registration with atomic uniqueness, profiles, and the credential check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cnop_common.clock import iso_z, utc_now
from cnop_common.errors import ApiError
from cnop_common.logging import get_logger
from cnop_common.store import Store
from cnop_common.transactions import write_together
from cnop_user.models import ProfileUpdate, RegisterRequest
from cnop_user.passwords import Passwords
from cnop_user.tables import BALANCES, USER_EMAILS, USERS

log = get_logger("accounts")

PROFILE_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "phone",
    "date_of_birth",
    "marketing_emails_consent",
    "created_at",
    "updated_at",
)


def _profile(item: dict[str, Any]) -> dict[str, Any]:
    return {field: item.get(field) for field in PROFILE_FIELDS}


class Accounts:
    """Users and their e-mail addresses."""

    def __init__(self, store: Store, passwords: Passwords) -> None:
        self.store = store
        self.passwords = passwords
        self.users = store.table(USERS.name)
        self.emails = store.table(USER_EMAILS.name)
        self.balances = store.table(BALANCES.name)

    def register(self, request: RegisterRequest) -> None:
        """Create the user, claim the e-mail and open a zero balance, all or nothing."""
        now = iso_z(utc_now())
        user = {
            "username": request.username,
            "email": request.email,
            "password_hash": self.passwords.hash(request.password),
            "first_name": request.first_name,
            "last_name": request.last_name,
            "phone": request.phone,
            "date_of_birth": request.date_of_birth.isoformat() if request.date_of_birth else None,
            "marketing_emails_consent": request.marketing_emails_consent,
            "role": "customer",
            "created_at": now,
            "updated_at": now,
        }
        items = {
            "user": {
                "Put": {
                    "TableName": self.users,
                    "Item": user,
                    "ConditionExpression": "attribute_not_exists(username)",
                }
            },
            "email": {
                "Put": {
                    "TableName": self.emails,
                    "Item": {"email": request.email, "username": request.username},
                    "ConditionExpression": "attribute_not_exists(email)",
                }
            },
            "balance": {
                "Put": {
                    "TableName": self.balances,
                    "Item": {
                        "username": request.username,
                        "balance": Decimal("0.00"),
                        "updated_at": now,
                    },
                    "ConditionExpression": "attribute_not_exists(username)",
                }
            },
        }
        # Whichever item was taken (the name, the address, a stray balance row): it exists.
        taken = ApiError(
            409, "USER_EXISTS", "That username or e-mail address is already registered."
        )
        write_together(self.store, "register", items, refusals={}, otherwise=taken)
        log.info("user_registered", registered_user=request.username)

    def find(self, username: str) -> dict[str, Any] | None:
        """The stored user, or None."""
        return self.store.get("get_user", USERS.name, {"username": username.lower()})

    def profile(self, username: str) -> dict[str, Any]:
        """The user's public profile; 404 if the account is gone."""
        item = self.find(username)
        if item is None:
            raise ApiError(404, "USER_NOT_FOUND", "No such user.")
        return _profile(item)

    def update_profile(self, username: str, update: ProfileUpdate) -> dict[str, Any]:
        """Change the given fields; a new e-mail is claimed and the old one released atomically."""
        current = self.find(username)
        if current is None:
            raise ApiError(404, "USER_NOT_FOUND", "No such user.")
        changes: dict[str, Any] = {}
        for field in update.model_fields_set:
            value = getattr(update, field)
            changes[field] = value.isoformat() if field == "date_of_birth" and value else value
        changes["updated_at"] = iso_z(utc_now())
        names = {f"#{k}": k for k in changes}
        values: dict[str, Any] = {f":{k}": v for k, v in changes.items()}
        values[":old_email"] = current["email"]
        items: dict[str, dict[str, Any]] = {
            "user": {
                "Update": {
                    "TableName": self.users,
                    "Key": {"username": current["username"]},
                    "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in changes),
                    # Guards against a concurrent e-mail change between our read and write.
                    "ConditionExpression": "email = :old_email",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            }
        }
        new_email = changes.get("email")
        if new_email and new_email != current["email"]:
            items["new_email"] = {
                "Put": {
                    "TableName": self.emails,
                    "Item": {"email": new_email, "username": current["username"]},
                    "ConditionExpression": "attribute_not_exists(email)",
                }
            }
            items["old_email"] = {
                "Delete": {
                    "TableName": self.emails,
                    "Key": {"email": current["email"]},
                    "ConditionExpression": "username = :u",
                    "ExpressionAttributeValues": {":u": current["username"]},
                }
            }
        write_together(
            self.store,
            "update_profile",
            items,
            refusals={
                "new_email": ApiError(
                    409, "EMAIL_EXISTS", "That e-mail address is already registered."
                )
            },
            # The e-mail address changed between our read and this write.
            otherwise=ApiError(409, "CONFLICT", "The profile changed meanwhile; try again."),
        )
        return _profile({**current, **changes})

    def upgrade_hash_if_needed(self, user: dict[str, Any], password: str) -> None:
        """Re-hash with today's parameters after a successful login, if they were raised."""
        if not self.passwords.needs_rehash(str(user["password_hash"])):
            return
        with self.store.errors("rehash"):
            self.store.client.update_item(
                TableName=self.users,
                Key={"username": user["username"]},
                UpdateExpression="SET password_hash = :h",
                ConditionExpression="password_hash = :old",
                ExpressionAttributeValues={
                    ":h": self.passwords.hash(password),
                    ":old": user["password_hash"],
                },
            )

    def verify_credentials(self, username: str, password: str) -> dict[str, Any] | None:
        """The user when the password matches; None otherwise, in the same time either way."""
        item = self.find(username)
        stored = str(item["password_hash"]) if item else None
        if not self.passwords.verify(stored, password):
            return None
        return item
