"""Tushare Pro as a data source.

- ``client``: :class:`~alphahome.sources.tushare.client.TushareClient` (one aiohttp session, retries, quota
  waits, offset/limit paging into pyarrow tables);
- ``errors``: the typed errors and :func:`~alphahome.sources.tushare.errors.classify`;
- ``rate_limiter``: :class:`~alphahome.sources.tushare.rate_limiter.RateLimiter`, per-API call budgets;
- ``table``: rows to a typed ``pyarrow.Table``;
- ``fields``: each API's output fields (the interface facts shared by the catalogue and the sandbox).

Nothing is imported here, so that reading the field table does not pull in aiohttp.
"""
