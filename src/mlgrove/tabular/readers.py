"""Stream tabular inputs as Arrow record batches, never whole files in memory.

Formats: CSV, TSV, Parquet, JSON Lines (by extension, or named explicitly), and
in-memory pandas/polars DataFrames and Arrow tables. Errors name the file, the line and
what to fix.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from mlgrove.errors import InvalidInput

BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 131_072
T = TypeVar("T")
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise InvalidInput(f"unknown format {fmt!r}", hint="use csv, tsv, parquet or jsonl")
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(
            f"cannot tell the format of {path.name}",
            hint="name it .csv, .tsv, .parquet or .jsonl, or pass --format",
        )
    return found


@dataclass
class Source:
    """A stream of record batches plus where it came from (for lineage and errors)."""

    name: str
    batches: Iterator[pa.RecordBatch]
    schema: pa.Schema
    path: Path | None = None
    fmt: str = "arrow"


class _Guard:
    """Detects a file that changes while it is being read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.before = self._stamp()

    def _stamp(self) -> tuple[int, int]:
        st = os.stat(self.path)
        return st.st_size, st.st_mtime_ns

    def check(self) -> None:
        if self._stamp() != self.before:
            raise InvalidInput(
                f"{self.path} changed while it was being read; nothing was committed",
                hint="wait until whatever writes it has finished, then add it again",
            )


def _csv_line_of_bad_row(path: Path, delimiter: str) -> tuple[int, int, int] | None:
    """(line, expected fields, found fields) of the first malformed row, found with the
    standard library's reader (only on the error path)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return None
        for row in reader:
            if row and len(row) != len(header):
                return reader.line_num, len(header), len(row)
    return None


class TypesWidened(Exception):
    """A later block of a CSV file did not fit the types inferred from the first block.

    Raised mid-stream; :func:`read_with_retry` widens the column and starts again.
    """

    def __init__(self, column: str, new_type: pa.DataType) -> None:
        super().__init__(f"column {column} widened to {new_type}")
        self.column = column
        self.new_type = new_type


def _csv_batches(
    path: Path, delimiter: str, guard: _Guard, column_types: dict[str, pa.DataType]
) -> Source:
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES)
    convert = pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=True)
    try:
        reader = pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid as exc:
        raise _csv_error(path, delimiter, exc) from None
    schema = reader.schema

    def batches() -> Iterator[pa.RecordBatch]:
        # Types come from the first block; when a later block disagrees (an id column
        # that turns into text on row 2 million) the column is widened and the read
        # starts over, so no value is lost and no type is guessed wrong.
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            widened = _widen(str(exc), schema, column_types)
            if widened is None:
                raise _csv_error(path, delimiter, exc) from None
            raise TypesWidened(*widened) from None
        guard.check()

    return Source(name=path.name, batches=batches(), schema=schema, path=path, fmt="csv")


def _widen(
    message: str, schema: pa.Schema, column_types: dict[str, pa.DataType]
) -> tuple[str, pa.DataType] | None:
    marker = "In CSV column #"
    if marker not in message:
        return None
    try:
        index = int(message.split(marker, 1)[1].split(":", 1)[0])
    except ValueError:
        return None
    name = schema.field(index).name
    current = column_types.get(name, schema.field(index).type)
    wider: pa.DataType = pa.float64() if pa.types.is_integer(current) else pa.large_string()
    if current == wider:
        return None
    return name, wider


def _csv_error(path: Path, delimiter: str, exc: pa.ArrowInvalid) -> InvalidInput:
    text = str(exc)
    located = _csv_line_of_bad_row(path, delimiter)
    if "Expected" in text and located is not None:
        line, expected, found = located
        return InvalidInput(
            f"{path.name} line {line}: expected {expected} fields, found {found}",
            hint="fix that line (a stray delimiter or an unquoted value?) and add the file again",
        )
    if "Empty CSV file" in text:
        return InvalidInput(
            f"{path.name} is empty", hint="a table needs a header line and at least one row"
        )
    return InvalidInput(f"cannot read {path.name}: {text.splitlines()[0]}")


def _jsonl_batches(path: Path, guard: _Guard) -> Source:
    schema_holder: dict[str, pa.Schema] = {}

    def blocks() -> Iterator[tuple[int, bytes]]:
        with open(path, "rb") as fh:
            line_no = 1
            while True:
                block = fh.read(BLOCK_BYTES)
                if not block:
                    return
                rest = fh.readline()  # finish the last line of the block
                block += rest
                yield line_no, block
                line_no += block.count(b"\n")

    def parse(line_no: int, block: bytes) -> pa.Table:
        options = pajson.ParseOptions(
            explicit_schema=schema_holder.get("schema"),
            unexpected_field_behavior="error" if "schema" in schema_holder else "infer",
        )
        try:
            return pajson.read_json(io.BytesIO(block), parse_options=options)
        except pa.ArrowInvalid as exc:
            bad = _first_bad_json_line(block)
            where = f" line {line_no + bad}" if bad is not None else ""
            raise InvalidInput(
                f"{path.name}{where}: {str(exc).splitlines()[0]}",
                hint="each line must be one JSON object with the same fields as the first lines",
            ) from None

    it = blocks()
    first = next(it, None)
    if first is None:
        raise InvalidInput(f"{path.name} is empty", hint="a table needs at least one row")
    first_table = parse(*first)
    schema_holder["schema"] = first_table.schema

    def batches() -> Iterator[pa.RecordBatch]:
        yield from first_table.to_batches()
        for line_no, block in it:
            yield from parse(line_no, block).to_batches()
        guard.check()

    return Source(
        name=path.name, batches=batches(), schema=first_table.schema, path=path, fmt="jsonl"
    )


def _first_bad_json_line(block: bytes) -> int | None:
    import json

    for i, line in enumerate(block.splitlines()):
        if line.strip():
            try:
                value = json.loads(line)
            except ValueError:
                return i
            if not isinstance(value, dict):
                return i
    return None


def _parquet_batches(path: Path, guard: _Guard) -> Source:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(
            f"{path.name} is not a readable Parquet file: {str(exc).splitlines()[0]}"
        ) from None

    def batches() -> Iterator[pa.RecordBatch]:
        yield from pf.iter_batches(batch_size=PARQUET_BATCH_ROWS)
        guard.check()

    return Source(
        name=path.name, batches=batches(), schema=pf.schema_arrow, path=path, fmt="parquet"
    )


def open_file(
    path: Path, fmt: str | None = None, column_types: dict[str, pa.DataType] | None = None
) -> Source:
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    if path.is_dir():
        raise InvalidInput(f"{path} is a folder", hint="folders are added as file datasets")
    kind = detect_format(path, fmt)
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is empty", hint="a table needs at least one row")
    guard = _Guard(path)
    if kind in ("csv", "tsv"):
        return _csv_batches(
            path,
            "," if kind == "csv" else "\t",
            guard,
            column_types if column_types is not None else {},
        )
    if kind == "parquet":
        return _parquet_batches(path, guard)
    return _jsonl_batches(path, guard)


def from_object(data: Any, name: str = "dataframe") -> Source:
    """A pandas or polars DataFrame, or an Arrow table / record batch."""
    table: pa.Table
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif type(data).__module__.startswith("polars"):
        table = data.to_arrow()
    elif type(data).__module__.startswith("pandas"):
        table = pa.Table.from_pandas(data, preserve_index=False)
    else:
        raise InvalidInput(
            f"cannot make a table from a {type(data).__name__}",
            hint="pass a file path, a pandas or polars DataFrame, or a pyarrow Table",
        )
    return Source(
        name=name,
        batches=iter(table.to_batches(max_chunksize=PARQUET_BATCH_ROWS)),
        schema=table.schema,
    )


def read_with_retry(path: Path, fmt: str | None, consume: Callable[[Source], T]) -> T:
    """Run ``consume`` over the file, starting again with wider types when needed."""
    column_types: dict[str, pa.DataType] = {}
    for _ in range(1000):
        try:
            return consume(open_file(path, fmt, column_types))
        except TypesWidened as widened:
            column_types[widened.column] = widened.new_type
    raise InvalidInput(f"cannot settle the column types of {path.name}")
