"""Read models: SQL tables kept from the event log, each with its own tracked position."""
