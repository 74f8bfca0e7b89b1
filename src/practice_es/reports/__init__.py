"""Reports built from the read models: plain dicts in the JSON shapes SPEC §4 writes down."""
