"""``alphahome query``: a synced dataset's rows from the shell, as a table, CSV or Parquet.

Exit codes: 0 rows (or none) printed; 2 bad usage (unknown dataset, column or value) or an unreachable
database — one clear line, nothing written.
"""

from __future__ import annotations

import sys
from typing import Any

import click
import pandas as pd
import pyarrow as pa

from alphahome.data.rows import DataQueryError, select_rows


def parse_where(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``k=v`` pairs as filters; ``k=a,b`` means any of a, b. DataQueryError for a pair without ``=``."""
    filters: dict[str, Any] = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise DataQueryError(f"--where takes column=value, got {pair!r}")
        values = [v.strip() for v in value.split(",")]
        filters[column.strip()] = values if len(values) > 1 else values[0]
    return filters


@click.command("query")
@click.argument("dataset")
@click.option("--codes", default=None, help="Comma-separated ts_codes (default: every code).")
@click.option("--start-date", "--start_date", "start", default=None,
              help="First date (YYYYMMDD or YYYY-MM-DD) of the dataset's date column, inclusive.")
@click.option("--end-date", "--end_date", "end", default=None, help="Last date, inclusive.")
@click.option("--fields", default=None, help="Comma-separated columns (default: all, in table order).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Keep rows whose column equals the value (a,b: any of them); repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "parquet"]), default="table",
              show_default=True)
@click.option("--output", "output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of standard output (required for parquet).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many rows.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="config.json to read.")
def query_command(dataset: str, codes: str | None, start: str | None, end: str | None, fields: str | None,
                  where: tuple[str, ...], fmt: str, output: str | None, limit: int | None,
                  config_path: str | None) -> int:
    """Rows of a synced DATASET (daily, income, tushare_stock_daily, …) from the local warehouse."""
    if fmt == "parquet" and output is None:
        raise click.UsageError("--format parquet needs --output FILE")
    try:
        filters = parse_where(where)
        select, _spec, _cols = select_rows(dataset, codes, start, end, fields, filters)
    except DataQueryError as exc:
        raise click.UsageError(str(exc)) from None
    from alphahome.config import load_settings
    from alphahome.data.reading import reading

    url = load_settings(config_path).settings.database.url
    with reading(url) as conn:
        table = conn.fetch_arrow(select.sql, *select.args)
    if limit is not None:
        table = table.slice(0, limit)
    write_table(table, fmt, output)
    return 0


def write_table(table: pa.Table, fmt: str, output: str | None) -> None:
    """Print or save an Arrow result: Parquet as it is; CSV and table with dates as YYYY-MM-DD and
    numbers at their stored precision."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert output is not None
        pq.write_table(table, output)
        return
    frame = table.to_pandas(date_as_object=False)
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        # Floats print as their shortest round-trip form: the value stored, no 0.30000000000000004.
        text = frame.to_csv(index=False)
    elif frame.empty:
        text = "(no rows)\n"
    else:
        with pd.option_context("display.unicode.east_asian_width", True):
            text = frame.to_string(index=False, na_rep="") + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
