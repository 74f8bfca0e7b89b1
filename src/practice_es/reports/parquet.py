"""`practice export parquet DIR`: the facts of one or more practices as Parquet datasets,
hive-partitioned by practice and month, readable by DuckDB, pandas and Spark (ADR 32).

DIR/<dataset>/practice=<name>/month=<YYYY-MM>/part-<first position>-<i>.parquet, and
DIR/manifest.json: for each practice the log position exported up to and the hash-chain head
there, so a second run reads only the events after it, and an auditor can tie the files to the
ledger (`audit verify --expect-head`). Files are written before the manifest: a run killed
half way leaves files the manifest does not count, which the next run removes and writes again.
pyarrow is an optional dependency (`pip install 'practice-es[analytics]'`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from practice_es.domain.errors import InvalidInput
from practice_es.reports.facts import DATASETS, Rows, fact_rows

if TYPE_CHECKING:
    from practice_es.application import PracticeLedger
    from practice_es.domain.events import DomainEvent

MANIFEST = "manifest.json"
PAGE = 10_000  # events decoded at a time (flat memory)
FILES_FROM = "part-"


@dataclass(frozen=True)
class Exported:
    practice: str
    first: int  # the first position this run exported (after the manifest's)
    position: int  # the log position exported up to
    rows: dict[str, int]
    chain_head: str


def _pyarrow() -> Any:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InvalidInput("export", "Parquet needs pyarrow: pip install "
                           "'practice-es[analytics]'") from None
    import pyarrow as pa

    return pa


def read_manifest(out: Path) -> dict[str, Any]:
    path = out / MANIFEST
    if not path.exists():
        return {"format": 1, "datasets": sorted(DATASETS), "practices": {}}
    try:
        manifest: dict[str, Any] = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        raise InvalidInput("DIR", f"{path} is not a manifest this command wrote") from None
    return manifest


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in one step (a rename), so a reader never sees half of one."""
    temporary = out / f".{MANIFEST}.{os.getpid()}"
    temporary.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    os.replace(temporary, out / MANIFEST)


def export_practice(ledger: PracticeLedger, practice: str, out: Path,
                    manifest: dict[str, Any]) -> Exported:
    """Write the practice's facts after its exported position; update `manifest` (in memory)."""
    from practice_es.infrastructure.chain import as_chained

    pa = _pyarrow()
    known = manifest["practices"].get(practice, {})
    after = int(known.get("position", 0))
    _remove_unrecorded(out, practice, after)
    chained = as_chained(ledger.recorder)
    head, link = chained.chain_head()
    counts = dict.fromkeys(DATASETS, 0)
    for start, rows in _pages(ledger, after, head):
        for dataset, found in rows.items():
            if found:
                _write(pa, out / dataset, practice, start, dataset, found)
                counts[dataset] += len(found)
    manifest["practices"][practice] = {
        "position": head, "chain_head": link.hex(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    return Exported(practice, after + 1, head, counts, link.hex())


def _pages(ledger: PracticeLedger, after: int, head: int) -> Iterator[tuple[int, Rows]]:
    from practice_es.projections.decoding import EventDecoder, LogReader

    reader = LogReader(ledger)
    decoder = EventDecoder(ledger.mapper)  # type: ignore[arg-type]
    decoder.opened = frozenset()  # no personal field is read: sealed ones stay shut
    position = after
    while position < head:
        raw = reader.page(position, head, PAGE)
        if not raw:
            return
        events: list[DomainEvent] = decoder.decode_page(raw)
        yield position + 1, fact_rows(iter([(r.position, e)
                                            for r, e in zip(raw, events, strict=True)]))
        position = raw[-1].position if len(raw) == PAGE else head


def _schema(pa: Any, dataset: str) -> Any:
    types = {"int64": pa.int64(), "string": pa.string(), "float64": pa.float64(),
             "bool": pa.bool_(), "timestamp": pa.timestamp("us")}
    columns = [(name, types[kind]) for name, kind in DATASETS[dataset]]
    return pa.schema([*columns, ("practice", pa.string()), ("month", pa.string())])


def _write(pa: Any, root: Path, practice: str, start: int, dataset: str,
           rows: list[dict[str, Any]]) -> None:
    import pyarrow.parquet as pq

    for row in rows:
        row["practice"] = practice
        row["month"] = row["occurred_on"].strftime("%Y-%m")
    table = pa.Table.from_pylist(rows, schema=_schema(pa, dataset))
    pq.write_to_dataset(table, root_path=str(root), partition_cols=["practice", "month"],
                        basename_template=f"{FILES_FROM}{start:012d}-{{i}}.parquet",
                        existing_data_behavior="overwrite_or_ignore")


def _remove_unrecorded(out: Path, practice: str, after: int) -> None:
    """Files of a run that died before its manifest: their events are exported again."""
    for dataset in DATASETS:
        folder = out / dataset / f"practice={practice}"
        for file in folder.glob(f"month=*/{FILES_FROM}*.parquet"):
            start = int(file.name[len(FILES_FROM):].split("-", 1)[0])
            if start > after:
                file.unlink()
