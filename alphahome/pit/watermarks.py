"""Per target and raw table: the newest raw ``update_time`` a PIT build has incorporated.

Kept in ``alphahome.pit_watermark`` and written in the same transaction as the PIT rows, so a crash leaves
either the old rows with the old watermarks or the new rows with the new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from alphahome.storage.spec import Column, TableSpec

WATERMARK_SPEC = TableSpec(
    schema="alphahome",
    name="pit_watermark",
    columns=(
        Column("target", "text", nullable=False),
        Column("source", "text", nullable=False, description="raw table (schema tushare)"),
        Column("watermark", "timestamp", description="newest raw update_time incorporated"),
        Column("built_at", "timestamp"),
        Column("mode", "text"),
    ),
    key=("target", "source"),
    track_update_time=False,
    description="What each PIT target has incorporated from each raw table.",
)


#: Per target, raw table and slice (stock and period; the stock for index_member_all): the rows of the
#: safety window (update_time in (watermark − margin, watermark]) the build saw, as a count and a sum of
#: their update_time offsets. An incremental build recomputes both over the same window: a slice whose
#: figures differ had a row committed late (or changed since), and only its window rows are looked at
#: again (docs/pit.md, "Updating").
WINDOW_SPEC = TableSpec(
    schema="alphahome",
    name="pit_window",
    columns=(
        Column("target", "text", nullable=False),
        Column("source", "text", nullable=False, description="raw table (schema tushare)"),
        Column("ts_code", "text", nullable=False),
        Column("end_date", "date", nullable=False, description="report period (1900-01-01: the whole stock)"),
        Column("row_count", "bigint", description="raw rows of the stock in the window"),
        Column("stamp_sum", "bigint", description="sum of their update_time, microseconds after the window start"),
    ),
    key=("target", "source", "ts_code", "end_date"),
    # Citus: distributed with the raw tables it describes, so the drift query's join stays on the workers.
    distribution_column="ts_code",
    track_update_time=False,
    description="What each PIT target saw of the raw rows inside its watermark's safety window.",
)


async def load(conn: Any, target: str) -> dict[str, datetime | None]:
    """The stored watermarks of ``target`` (source -> timestamp); empty before its first build."""
    rows = await conn.fetch_arrow(
        "SELECT source, watermark FROM alphahome.pit_watermark WHERE target = $1", target
    )
    marks = rows.column("watermark")
    zone = getattr(marks.type, "tz", None)
    if zone is not None:
        # Arrow keeps instants in UTC: read them naive and mark them UTC (converting a zoned column to
        # Python objects would import pandas, which `pit update` otherwise never needs).
        marks = marks.cast(pa.timestamp(marks.type.unit))
    return {
        str(source): (mark.replace(tzinfo=UTC) if zone is not None and mark is not None else as_datetime(mark))
        for source, mark in zip(rows.column("source").to_pylist(), marks.to_pylist(), strict=True)
    }


async def save(conn: Any, target: str, marks: dict[str, datetime | None], mode: str, now: datetime) -> None:
    """Replace ``target``'s watermarks (inside the caller's transaction)."""
    await conn.execute("DELETE FROM alphahome.pit_watermark WHERE target = $1", target)
    for source, mark in sorted(marks.items()):
        await conn.execute(
            "INSERT INTO alphahome.pit_watermark (target, source, watermark, built_at, mode) "
            "VALUES ($1, $2, $3, $4, $5)",
            target, source, mark, now, mode,
        )


def as_datetime(value: Any) -> datetime | None:
    """A timestamp read back from either backend as an aware ``datetime`` (None for NULL/NaT)."""
    if value is None:
        return None
    if type(value) is datetime:  # what Arrow hands back (exactly; pandas' NaT and Timestamp go below)
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
        return pd.Timestamp(value).to_pydatetime()
    except (TypeError, ValueError):
        return value
