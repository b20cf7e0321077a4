"""Synthetic, seeded demo data: support tickets with labels, for the demo workspace.

Clearly demo data (every text says so by construction); nothing here pretends to be real.
The second version plays the part of reviewed corrections: some labels fixed, some
tickets withdrawn, new tickets arrived.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

TOPICS = {
    "billing": ["charged twice", "refund for order", "invoice missing", "card declined"],
    "account": ["cannot log in", "reset my password", "change my e-mail", "delete my account"],
    "bug": ["app crashes on start", "export button does nothing", "page is blank", "sync fails"],
}


def tickets(n: int, *, start: int = 0, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed + start)
    labels = np.array(list(TOPICS))
    label_idx = rng.integers(0, len(labels), n)
    texts = []
    for i, li in enumerate(label_idx.tolist()):
        phrase = TOPICS[labels[li]][int(rng.integers(0, 4))]
        texts.append(f"demo ticket {start + i}: {phrase}")
    return pa.table(
        {
            "id": pa.array(np.arange(start, start + n), pa.int64()),
            "text": pa.array(texts, pa.large_string()),
            "channel": pa.array(
                rng.choice(["email", "chat", "phone"], n, p=[0.5, 0.35, 0.15]), pa.large_string()
            ),
            "label": pa.array(labels[label_idx], pa.large_string()),
            "priority": pa.array(rng.integers(1, 5, n), pa.int64()),
        }
    )


def corrected(base: pa.Table, *, seed: int = 11) -> pa.Table:
    """The next version: 2% of labels corrected, 0.5% removed, 3% new tickets."""
    rng = np.random.default_rng(seed)
    n = base.num_rows
    labels = base.column("label").to_numpy(zero_copy_only=False).copy()
    fix = rng.choice(n, size=n // 50, replace=False)
    labels[fix] = np.array(["billing", "account", "bug"])[rng.integers(0, 3, len(fix))]
    keep = np.ones(n, bool)
    keep[rng.choice(n, size=n // 200, replace=False)] = False
    updated = base.set_column(
        base.schema.get_field_index("label"), "label", pa.array(labels, pa.large_string())
    )
    updated = updated.filter(pa.array(keep))
    return pa.concat_tables([updated, tickets(n * 3 // 100, start=n, seed=seed)])
