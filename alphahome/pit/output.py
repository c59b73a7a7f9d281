"""How ``alphahome pit query`` prints a result: CSV for programs, an aligned table for people (docs/pit.md).

CSV numbers: the shortest decimal with at most 15 significant digits that rounds to the value. 15 digits is
what a double carries exactly, so a stored 360774048.45 prints as ``360774048.45``, and the noise of double
arithmetic (a single quarter computed as 1,000,774,048.45 − 640,000,000 = 360774048.45000005) is dropped;
never in exponent form. Integers print without a decimal point.

Table: rich measures cells in terminal columns, so Chinese names (two columns per character) stay aligned.
The table is never squeezed to the terminal: a wide one is printed whole and the terminal wraps it, as
``pandas.DataFrame.to_string`` did.
"""

from __future__ import annotations

import io
import math
from typing import IO, Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

#: Significant digits a double holds exactly (DBL_DIG).
CSV_DIGITS = 15


def csv_number(x: float) -> str:
    """One CSV number: shortest positional decimal, at most 15 significant digits; empty for NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return np.format_float_positional(float(x), precision=CSV_DIGITS, unique=True, fractional=False, trim="-")


def table_number(x: float) -> str:
    """Amounts in CNY with two decimals, ratios and per-share values with six significant digits."""
    return f"{x:.2f}" if abs(x) >= 1e4 else f"{x:.6g}"


def _text(df: pd.DataFrame, number: Any) -> pd.DataFrame:
    """Every cell as text: dates YYYY-MM-DD, floats through ``number``, missing values empty."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_float_dtype(s):
            out[col] = [("" if pd.isna(v) else number(v)) for v in s]
        else:
            out[col] = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in s]
    return out


def write_csv(df: pd.DataFrame, stream: IO[str]) -> None:
    """``df`` as CSV with a header row and numbers at their stored precision."""
    _text(df, csv_number).to_csv(stream, index=False)


def render_table(df: pd.DataFrame, min_width: int | None = None) -> str:
    """``df`` as an aligned text table (header, then one line per row), columns measured by display width.

    ``min_width``: the console width to lay out in (the terminal's); the table is never squeezed below its
    natural width.
    """
    text = _text(df, table_number)
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold", highlight=False)
    for col in text.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left", no_wrap=True)
    for row in text.itertuples(index=False):
        table.add_row(*row)
    sink = io.StringIO()
    console = Console(file=sink, width=10_000, color_system=None, force_terminal=False, legacy_windows=False)
    natural = console.measure(table).maximum
    console.width = max(natural, min_width or 0)
    console.print(table, soft_wrap=False)
    return "\n".join(line.rstrip() for line in sink.getvalue().splitlines()) + "\n"
