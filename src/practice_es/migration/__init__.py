"""Migration from legacy exports (SPEC §6): mapping files, readers, row models, the importer."""
