"""The user service: accounts, password hashes, cash balances, ledger, holdings, portfolio."""

SERVICE = "user"
