"""practice-es: an event-sourced practice ledger for manual-therapy practices."""

__version__ = "0.1.0"
