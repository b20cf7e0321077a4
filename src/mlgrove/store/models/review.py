"""Review: queues, items, assignments (leases), verdicts, gold answers, ingest keys."""
