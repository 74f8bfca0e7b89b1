"""Audit: a client's history as the ledger knew it, and proof that the log was not altered."""
