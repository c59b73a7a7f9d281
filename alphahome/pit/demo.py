"""The PIT step of ``alphahome demo``: build every PIT table after the sync and show a sample as-of query."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from rich.console import Console

from alphahome.pit.definitions import TARGETS
from alphahome.pit.query import as_of_async, industry_as_of_async
from alphahome.pit.update import run_pit_update

SAMPLE_FIELDS = ["revenue", "n_income_attr_p"]


async def demo_step(backend: Any, console: Console, as_of: date, sample: int = 5) -> None:
    """Build the PIT tables (first build: full) and print each target's result and an as-of sample."""
    results = await run_pit_update(backend, list(TARGETS), "incremental")
    for r in results:
        status = "[green]ok[/]" if r.status != "failed" else f"[red]failed[/] {r.error}"
        console.print(f"PIT {r.target:<24} {r.mode:<11} {r.rows:>9,} rows {r.seconds:6.1f}s  {status}")
    if any(r.status == "failed" for r in results):
        return
    income = await as_of_async(backend, "income", as_of, fields=SAMPLE_FIELDS)
    industry = await industry_as_of_async(backend, as_of, level=1)
    rows = income.merge(industry, on="ts_code", how="left").head(sample)
    headers = {  # column -> short header, so the sample fits a terminal
        "ts_code": "ts_code", "l1_name": "industry", "end_date": "period", "knowledge_date": "known",
        "n_income_attr_p": "net profit", "n_income_attr_p_sq": "single qtr", "n_income_attr_p_ttm": "TTM",
    }
    sample_frame = pd.DataFrame({h: [_cell(v) for v in rows.get(c, pd.Series(dtype=object))]
                                 for c, h in headers.items()})
    console.print(f"as_of('income', '{as_of:%Y-%m-%d}'): what was known that day (CNY)")
    console.print(sample_frame.to_string(index=False), markup=False, highlight=False, soft_wrap=True)
    console.print(f"{len(income):,} stocks had a report known on {as_of:%Y-%m-%d}. Try:")
    console.print(f"  alphahome pit query --table income --date {as_of:%Y%m%d} --fields revenue,n_income_attr_p",
                  soft_wrap=True)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float):
        return f"{value / 1e6:.1f}M" if abs(value) >= 1e6 else f"{value:.2f}"
    return str(value)
