"""The front desk (SPEC §10): a thin web adapter over the PracticeLedger and the read models."""
