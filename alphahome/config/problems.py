"""Turn pydantic validation errors into one-line problems a person can act on: "expected an integer, got
'fast'", "unknown key (did you mean 'max_workers'?)". Values at secret key paths are never repeated."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel

from alphahome.config.masking import describe_value

_TYPE_WORDS = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "list_type": "expected a list",
    "date_type": "expected a date",
    "missing": "required",
}
_SECRET_PATHS = {("api", "tushare_token"), ("database", "url")}


def describe_error(model: type[BaseModel], loc: tuple[str | int, ...], error: Any) -> str:
    """What is wrong, in words, for one pydantic error of ``model`` at ``loc`` (without the key path)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _fields_at(model, tuple(p for p in loc[:-1] if isinstance(p, str)))
        return "unknown key" + suggest(str(loc[-1]), allowed)
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        what = f"expected one of {ctx.get('expected', '')}"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": "at least",
            "greater_than": "greater than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        limit = next(iter(ctx.values()), "")
        what = f"must be {bound} {limit}"
    else:
        what = _TYPE_WORDS.get(kind) or error["msg"]
    if kind == "missing" or tuple(loc[:2]) in _SECRET_PATHS:
        return what
    return f"{what}, got {describe_value(error.get('input'))}"


def _fields_at(model: type[BaseModel], path: tuple[str, ...]) -> list[str]:
    """The keys allowed under ``path`` of ``model`` (for did-you-mean)."""
    current: Any = model
    keys = iter(path)
    for key in keys:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(key)
        if info is None:
            return []
        current = info.annotation
        if getattr(current, "__origin__", None) is dict:  # tasks: dict[str, TaskOverrides]
            current = current.__args__[1]
            next(keys, None)  # the mapping's own key, e.g. the dataset name
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def suggest(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def dotted(loc: tuple[str | int, ...]) -> str:
    """``('tasks', 'daily', 'x')`` -> ``tasks.daily.x``; list positions as ``[i]``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
