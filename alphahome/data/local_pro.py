"""``pro_api``: a local stand-in for ``tushare.pro_api()`` that answers from the warehouse.

Research code written against the Tushare SDK runs unchanged after one import changes::

    # import tushare as ts; pro = ts.pro_api(token)
    import alphahome
    pro = alphahome.pro_api()
    df = pro.daily(ts_code="000001.SZ", start_date="20240101", end_date="20240131")
    df = pro.query("income", ts_code="600000.SH", period="20231231", fields="ts_code,ann_date,revenue")

Every API of the catalogue takes Tushare's parameter names with Tushare's meaning (the same declarations
the project's sandbox serves from: a parameter filters its column, ``start_date``/``end_date`` bound the
API's date column, omitted parameters take Tushare's defaults such as ``list_status='L'``), and answers
with the columns the SDK returns — default fields unless ``fields`` names others, in that order; dates as
``YYYYMMDD`` strings; integers, floats and strings typed as the SDK's own DataFrame construction types
them — newest first as Tushare sorts. Differences, on purpose: no token, no quota, and no row cap (a call
returns every matching row; ``limit``/``offset`` still work). A parameter the API does not document, or
one this warehouse cannot apply, is a :class:`DataQueryError` naming it — never silently ignored.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from alphahome.data.rows import DataQueryError, WhereClause, column_value, dataset_table
from alphahome.storage.spec import TableSpec
from alphahome.storage.sql import qualified, quote_ident
from alphahome.storage.sync import SyncBackend


def api_definitions() -> dict[str, Any]:
    """Every Tushare API the project knows, by name, with its parameters' meaning (shared with the
    sandbox, so local answers and served answers agree by construction)."""
    from alphahome.sandbox.catalog import build_catalog

    return _catalog(build_catalog)


_CACHE: dict[str, Any] = {}


def _catalog(build: Any) -> dict[str, Any]:
    if "apis" not in _CACHE:
        _CACHE["apis"] = build()
    return _CACHE["apis"]


class LocalProApi:
    """``pro.<api>(**params)`` and ``pro.query(api, fields, **params)`` against the local warehouse.

    ``db``: None for the configured database, a database URL, or an open SyncBackend. One connection
    (read-only for DuckDB) is opened on the first call and kept; ``close()`` or ``with`` releases it.
    """

    def __init__(self, db: Any = None) -> None:
        self._db = db
        self._conn: SyncBackend | None = db if isinstance(db, SyncBackend) else None
        self._owned = False

    def _connection(self) -> SyncBackend:
        if self._conn is None:
            from alphahome.data.reading import open_reader

            self._conn = open_reader(self._db)
            self._owned = True
        return self._conn

    def close(self) -> None:
        """Release the connection this object opened (idempotent)."""
        if self._owned and self._conn is not None:
            self._conn.close()
        self._conn = None
        self._owned = False

    def __enter__(self) -> LocalProApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in api_definitions():
            raise AttributeError(f"pro_api has no API {name!r}")
        return partial(self.query, name)

    def query(self, api_name: str, fields: str | list[str] = "", **params: Any) -> pd.DataFrame:
        """Tushare's ``pro.query``: the rows ``api_name`` would return for ``params``, from the warehouse."""
        call = LocalCall.build(api_name, fields, params)
        table = self._connection().fetch_arrow(call.sql, *call.args)
        return sdk_frame(table, call.fields, call.types)


def pro_api(db: Any = None) -> LocalProApi:
    """A local stand-in for ``tushare.pro_api()`` (see the module docstring); takes no token."""
    return LocalProApi(db)


class LocalCall:
    """One ``pro.<api>(…)`` call turned into SQL over the API's table."""

    def __init__(self, sql: str, args: tuple[Any, ...], fields: list[str], types: dict[str, str]) -> None:
        self.sql = sql
        self.args = args
        self.fields = fields
        self.types = types

    @classmethod
    def build(cls, api_name: str, fields: str | list[str], params: dict[str, Any]) -> LocalCall:
        """Validate the call and generate its SQL (identifiers quoted, values bound)."""
        apis = api_definitions()
        api = apis.get(api_name)
        if api is None:
            raise DataQueryError(f"unknown Tushare API {api_name!r}")
        spec = _table_of(api_name)
        given = {k: v for k, v in params.items() if v is not None and v != ""}
        offset = _non_negative(given.pop("offset", 0), "offset")
        limit = _non_negative(given.pop("limit", 0), "limit") or None
        filters = {f.param: f for f in api.query.filters}
        for name in given:
            if name not in api.params:
                raise DataQueryError(
                    f"{api_name}: unknown parameter {name!r} (parameters: {', '.join(api.params) or 'none'})"
                )
            if name not in filters:
                raise DataQueryError(f"{api_name}: parameter {name!r} is not supported by the local warehouse")
        where = WhereClause()
        for f in api.query.filters:
            value = given.get(f.param, f.default)
            if value is not None and value != "":
                _condition(where, spec, f, str(value).strip())
        names = _select_fields(api, fields)
        types = {fd.name: fd.type for fd in api.fields}
        order = [f"{quote_ident(c)} DESC NULLS LAST" for c in api.sort_desc]
        order += [quote_ident(k) for k in spec.key if k not in api.sort_desc]
        sql = (
            f"SELECT {', '.join(quote_ident(n) for n in names)} FROM {qualified(spec.schema, spec.name)}"
            f"{where.sql()}"
            + (f" ORDER BY {', '.join(order)}" if order else "")
            + (f" LIMIT {where.bind(limit)}" if limit else "")
            + (f" OFFSET {where.bind(offset)}" if offset else "")
        )
        return cls(sql, tuple(where.args), names, types)


def _table_of(api_name: str) -> TableSpec:
    from alphahome.sandbox.catalog import dataset_of

    return dataset_table(dataset_of(api_name))


def _non_negative(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DataQueryError(f"{name} must be a non-negative integer, got {value!r}") from None
    if number < 0:
        raise DataQueryError(f"{name} must be a non-negative integer, got {value!r}")
    return number


def _select_fields(api: Any, requested: str | list[str]) -> list[str]:
    """Tushare's rule: the named known fields in the order given, else the default fields."""
    parts = requested.split(",") if isinstance(requested, str) else [p for r in requested for p in r.split(",")]
    known = set(api.field_names)
    chosen = list(dict.fromkeys(p.strip() for p in parts if p.strip() in known))
    return chosen or list(api.default_field_names)


def _condition(where: WhereClause, spec: TableSpec, f: Any, value: str) -> None:
    column = spec.column(f.column)
    values = [v.strip() for v in value.split(",") if v.strip()] if f.op in ("in", "symbol") else [value]
    if f.op == "symbol":
        marks = ", ".join(where.bind(v) for v in values)
        where.add(f"split_part({quote_ident(f.column)}, '.', 1) IN ({marks})")
        return
    typed = [column_value(column.type, v, f.param) for v in values]
    if f.op == "ge":
        where.between(f.column, typed[0], None)
    elif f.op == "le":
        where.between(f.column, None, typed[0])
    else:
        where.equals(f.column, typed if f.op == "in" else typed[0])


def sdk_frame(table: pa.Table, fields: list[str], types: dict[str, str]) -> pd.DataFrame:
    """The DataFrame the Tushare SDK would build from the same rows sent over the wire: values in their
    wire form (dates as YYYYMMDD text, missing as None), then ``pd.DataFrame(items, columns=fields)`` —
    the SDK's own construction, so column types are inferred exactly as there."""
    columns = []
    for name in fields:
        col = table.column(name)
        if pa.types.is_date(col.type):
            col = pc.strftime(col, format="%Y%m%d")
        elif types.get(name) == "i" and pa.types.is_floating(col.type):
            col = pc.cast(col, pa.int64())
        elif types.get(name) == "f" and not pa.types.is_floating(col.type):
            col = pc.cast(col, pa.float64())
        values = col.to_pylist()
        if types.get(name) == "f":
            values = [None if v is None or v != v else v for v in values]
        columns.append(values)
    items = [list(row) for row in zip(*columns, strict=True)] if columns else []
    if not items:
        return pd.DataFrame([], columns=fields)
    return pd.DataFrame(items, columns=fields)
