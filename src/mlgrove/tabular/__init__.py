"""Arrow-level machinery for tabular datasets: reading inputs, row hashing, chunking,
chunk encoding, manifests, row-level diffs, split assignment and statistics.

Pure computation over Arrow data (no database, no object store): the services put it
together. Depends on pyarrow, numpy and pandas, never on the rest of mlgrove but
``errors``.
"""
