"""Point-in-time financial tables (schema ``pit``) and the as-of query layer. See docs/pit.md."""

from alphahome.pit.query import (
    PitQueryError,
    as_of,
    as_of_async,
    industry_as_of,
    industry_as_of_async,
    period_as_of,
    period_as_of_async,
    series,
    series_async,
)

__all__ = [
    "PitQueryError",
    "as_of",
    "as_of_async",
    "industry_as_of",
    "industry_as_of_async",
    "period_as_of",
    "period_as_of_async",
    "series",
    "series_async",
]
