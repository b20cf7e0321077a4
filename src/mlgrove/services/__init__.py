"""Use cases, one module each. All authorisation decisions are made here."""
