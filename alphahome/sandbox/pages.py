"""Rendering query results as Tushare JSON: rows sorted newest-first once per query, then each page
written straight to JSON text.

Each column becomes an Arrow array of JSON tokens (``"text"``, ``1.25``, ``3``, ``null``) by its Tushare
type, and a page is a slice of those arrays joined row by row. This is several times faster than
``json.dumps`` on lists of Python floats, whose ``repr`` dominates the cost of a 6,000-row page.
Floats keep their exact value (shortest round-trip digits) and always read back as floats; NaN and
infinities become ``null``; strings are escaped as JSON requires; ints stay ints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from alphahome.sandbox.apidef import ApiDef


class QueryResult:
    """Every row of one query, sorted newest-first (``ApiDef.sort_desc`` descending, stable, nulls last);
    pages are rendered straight to JSON text. Safe to share between threads (token caching is idempotent)."""

    def __init__(self, api: ApiDef, frame: pd.DataFrame) -> None:
        self.api = api
        self._types = {f.name: f.type for f in api.fields}
        missing = [name for name in api.field_names if name not in frame.columns]
        if missing and len(frame):
            raise RuntimeError(f"market query for {api.name} returned no column(s) {missing}")
        sort_by = [c for c in api.sort_desc if c in frame.columns]
        if sort_by and len(frame) > 1:
            frame = frame.sort_values(sort_by, ascending=False, kind="stable", na_position="last")
        self._frame = frame
        self._tokens: dict[tuple[str, int, int], pa.Array] = {}
        self.n_rows = len(frame)

    def tokens(self, name: str, start: int, stop: int) -> pa.Array:
        """Rows ``start:stop`` of a column as JSON tokens, one string per row (kept for repeated pages)."""
        key = (name, start, stop)
        tokens = self._tokens.get(key)
        if tokens is None:
            if name in self._frame.columns:
                tokens = json_tokens(self._frame[name].iloc[start:stop], self._types[name])
            else:  # only for an empty result without columns
                tokens = pa.array(["null"] * (stop - start), type=pa.string())
            self._tokens[key] = tokens
        return tokens

    def page_json(self, names: list[str], start: int, stop: int) -> str:
        """Rows ``start:stop`` of the named columns as a JSON array of arrays."""
        stop = min(stop, self.n_rows)
        if start >= stop or not names:
            return "[" + ",".join("[]" for _ in range(max(0, stop - start))) + "]"
        # Only the page is rendered: a broad query answered by its first page never renders the rest.
        columns = [self.tokens(name, start, stop) for name in names]
        rows = pc.binary_join_element_wise(*columns, ",") if len(columns) > 1 else columns[0]
        # One Arrow join instead of thousands of Python strings.
        whole = pa.ListArray.from_arrays(pa.array([0, len(rows)], type=pa.int32()), rows)
        return "[[" + pc.binary_join(whole, "],[")[0].as_py() + "]]"


def json_tokens(series: pd.Series, kind: str) -> pa.Array:
    """A column as an Arrow string array of JSON tokens, by Tushare type (s, f, i); missing -> ``null``.

    Floats keep their exact value (shortest round-trip digits) and always read back as floats (``57.0``);
    NaN and infinities become ``null``.
    """
    if kind in ("f", "i"):
        numeric = series if pd.api.types.is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")
        if kind == "i" and pd.api.types.is_integer_dtype(numeric) and not numeric.hasnans:
            return pc.cast(pa.array(numeric.to_numpy(dtype=np.int64)), pa.string())
        floats = numeric.to_numpy(dtype="float64", na_value=np.nan)
        missing = ~np.isfinite(floats)
        if kind == "i":
            ints = np.where(missing, 0, floats).astype(np.int64)
            return pc.fill_null(pc.cast(pa.array(ints, mask=missing), pa.string()), "null")
        tokens = pc.cast(pa.array(floats, mask=missing), pa.string())
        # Arrow writes 57.0 as "57": integral values get Python's repr ("57.0", "1e+16") so that clients
        # read a float, as from the real service.
        with np.errstate(invalid="ignore"):
            integral = (np.floor(floats) == floats) & ~missing
        if integral.any():
            fixed = pa.array([repr(v) for v in floats[integral].tolist()], type=pa.string())
            tokens = pc.replace_with_mask(tokens, pa.array(integral), fixed)
        return pc.fill_null(tokens, "null")
    try:
        text = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        text = pa.array([None if _is_missing(v) else _as_text(v) for v in series.tolist()], type=pa.string())
    text = text.cast(pa.string())
    if _needs_escaping(text):
        dumped = [None if v is None else json.dumps(v, ensure_ascii=False) for v in text.to_pylist()]
        return pc.fill_null(pa.array(dumped, type=pa.string()), "null")
    return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")


def _needs_escaping(text: pa.Array) -> bool:
    """Whether any string holds a quote, a backslash or a control character (JSON must escape those)."""
    if len(text) == 0:
        return False
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=len(text) + 1, offset=4 * text.offset)
    data = text.buffers()[2]
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]]
    return bool(((raw < 0x20) | (raw == 0x22) | (raw == 0x5C)).any())


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA or value is pd.NaT


def _as_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _json_default(value: Any) -> Any:
    # Only reached for values the json module cannot encode itself: numpy scalars and dates.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def encode_envelope(envelope: Mapping[str, Any]) -> bytes:
    """The response body: compact UTF-8 JSON (Chinese text unescaped, as the real service may send it)."""
    return json.dumps(
        envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
    ).encode("utf-8")


@dataclass(frozen=True)
class Page:
    """A successful answer's data, with its rows already rendered as JSON text."""

    fields: list[str]
    items_json: str
    n_items: int
    has_more: bool

    def encode(self, request_id: str) -> bytes:
        """The whole success envelope."""
        fields = json.dumps(self.fields, ensure_ascii=False, separators=(",", ":"))
        more = "true" if self.has_more else "false"
        return (f'{{"request_id":"{request_id}","code":0,"msg":"","data":{{"fields":{fields},'
                f'"items":{self.items_json},"has_more":{more}}}}}').encode()
