"""The practice's domain: aggregates, events and the rules of SPEC §2. No I/O here."""
