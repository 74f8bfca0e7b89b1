"""The `practice` command line: thin click commands over the PracticeLedger."""
