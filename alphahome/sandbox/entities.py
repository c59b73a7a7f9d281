"""The bounded entity sets the long-tail tables are laid out over (``alphahome.sandbox.generic``).

Stocks are the market's own (the first N listed ones for per-stock panels, so codes join with ``daily``);
indices are the market's computed indices; the rest (bonds, futures, options, Hong Kong stocks, concept
boards, global indices, curves) are small deterministic lists made up here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alphahome.sandbox.generic import Entities

#: Which entity set each long-tail API is laid out over (default by family, see :func:`entity_set_of`).
_API_SETS: dict[str, str] = {
    "ths_index": "ths", "ths_daily": "ths", "ths_member": "ths",
    "dc_index": "dc", "dc_daily": "dc", "dc_member": "dc",
    "kpl_concept": "kpl", "kpl_concept_cons": "kpl",
    "margin": "exchanges", "moneyflow_hsgt": "single",
    "index_global": "global", "sw_daily": "sw", "ci_daily": "ci", "etf_index": "indices",
    "index_dailybasic": "indices", "idx_factor_pro": "indices",
    "fut_mapping": "fut_cont", "fut_holding": "fut_symbols", "yc_cb": "curves",
    "eco_cal": "single",
}  # fmt: skip
_FAMILY_SETS: dict[str, str] = {
    "stock": "stocks", "finance": "stocks", "index": "indices", "fund": "funds", "cbond": "cbonds",
    "future": "futures", "option": "options", "hk": "hk", "macro": "single", "others": "single",
}  # fmt: skip
_FUTURES = (("CU", "SHF", "SHFE", "沪铜"), ("AL", "SHF", "SHFE", "沪铝"), ("RB", "SHF", "SHFE", "螺纹钢"),
            ("M", "DCE", "DCE", "豆粕"), ("I", "DCE", "DCE", "铁矿石"), ("SR", "ZCE", "CZCE", "白糖"),
            ("IF", "CFX", "CFFEX", "沪深300股指"), ("SC", "INE", "INE", "原油"))  # fmt: skip
_GLOBAL = (("XIN9", "富时中国A50"), ("HSI", "恒生指数"), ("DJI", "道琼斯工业指数"), ("SPX", "标普500"),
           ("IXIC", "纳斯达克指数"), ("FTSE", "富时100"), ("GDAXI", "德国DAX"), ("N225", "日经225"))  # fmt: skip
_CI_L1 = ("石油石化", "煤炭", "有色金属", "电力及公用事业", "钢铁", "基础化工", "建筑", "建材", "轻工制造", "机械",
          "电力设备及新能源", "国防军工", "汽车", "商贸零售", "消费者服务", "家电", "纺织服装", "医药", "食品饮料",
          "农林牧渔", "银行", "非银行金融", "房地产", "交通运输", "电子", "通信", "计算机", "传媒", "综合",
          "综合金融")  # fmt: skip


def entity_set_of(api: str, family: str) -> str:
    """The name of the entity set ``api`` is laid out over."""
    return _API_SETS.get(api, _FAMILY_SETS.get(family, "single"))


def _numbered(prefix: str, suffix: str, count: int, start: int, label: str) -> Entities:
    codes = tuple(f"{prefix}{start + i:03d}.{suffix}" for i in range(count))
    return Entities(codes, tuple(f"{label}{i + 1}" for i in range(count)))


def ci_industries() -> Entities:
    """The CITIC level-1 industry indices (``CI005001.CI`` …)."""
    codes = tuple(f"CI005{i + 1:03d}.CI" for i in range(len(_CI_L1)))
    return Entities(codes, _CI_L1)


def build_entity_sets(
    stock_codes: np.ndarray,
    stock_names: np.ndarray,
    index_codes: list[str],
    index_names: list[str],
    sw: pd.DataFrame,
    fund_codes: list[str],
    fund_names: list[str],
    per_set: int,
    last_day: str,
) -> dict[str, Entities]:
    """Every entity set by name; ``per_set`` bounds the made-up sets and the per-stock panels."""
    stocks = Entities(tuple(stock_codes[:per_set]), tuple(stock_names[:per_set]))
    year = int(last_day[:4])
    months = [f"{(year + (m // 12)) % 100:02d}{m % 12 + 1:02d}" for m in range(int(last_day[4:6]) - 1, 60)]
    fut_codes, fut_names, fut_ex, fut_sym = [], [], [], []
    per_product = max(2, per_set // len(_FUTURES))
    for root, suffix, exchange, label in _FUTURES:
        for ym in months[:per_product]:
            fut_codes.append(f"{root}{ym}.{suffix}")
            fut_names.append(f"{label}{ym}")
            fut_ex.append(exchange)
            fut_sym.append(f"{root}{ym}")
    futures = Entities(tuple(fut_codes), tuple(fut_names),
                       extra=(("exchange", tuple(fut_ex)), ("symbol", tuple(fut_sym)),
                              ("fut_code", tuple(c.split(".")[0].rstrip("0123456789") for c in fut_codes))))  # fmt: skip
    fut_cont = Entities(
        tuple(f"{root}.{suffix}" for root, suffix, _, _ in _FUTURES),
        tuple(f"{label}主力" for *_, label in _FUTURES),
        extra=(("mapping_ts_code", tuple(f"{root}{months[1]}.{suffix}" for root, suffix, _, _ in _FUTURES)),),
    )
    # holdings are ranked for the front contract of each product only (a bounded table)
    front = range(0, len(fut_codes), per_product)
    fut_symbols = Entities(tuple(fut_sym[i] for i in front), tuple(fut_names[i] for i in front),
                           extra=(("exchange", tuple(fut_ex[i] for i in front)),), column="symbol")  # fmt: skip
    n_opt = max(4, per_set)
    opt_codes = tuple(f"{10004000 + i}.SH" for i in range(n_opt))
    options = Entities(opt_codes, tuple(f"50ETF{'购' if i % 2 == 0 else '沽'}{months[i % 4]}月{2500 + 50 * (i // 2)}"
                                        for i in range(n_opt)),
                       extra=(("exchange", ("SSE",) * n_opt), ("call_put", tuple("CP"[i % 2] for i in range(n_opt))),
                              ("opt_code", ("OP510050.SH",) * n_opt)))  # fmt: skip
    cb = _numbered("113", "SH", per_set, 500, "转债")
    cbonds = Entities(cb.codes, tuple(f"{str(n)[:2]}转债" for n in stock_names[:per_set]) or cb.names,
                      extra=(("stk_code", tuple(stock_codes[:per_set])), ("stk_short_name", tuple(stock_names[:per_set])),
                             ("exchange", ("SSE",) * per_set)))  # fmt: skip
    sets = {
        "stocks": stocks,
        "indices": Entities(tuple(index_codes), tuple(index_names)),
        "sw": Entities(tuple(sw["index_code"]), tuple(sw["industry_name"])),
        "ci": ci_industries(),
        "funds": Entities(tuple(fund_codes[:per_set]), tuple(fund_names[:per_set])),
        "cbonds": cbonds,
        "futures": futures,
        "fut_cont": fut_cont,
        "fut_symbols": fut_symbols,
        "options": options,
        "hk": _numbered("00", "HK", per_set, 1, "港股"),
        "ths": _numbered("885", "TI", per_set, 300, "同花顺概念"),
        "dc": _numbered("BK0", "DC", per_set, 400, "东财板块"),
        "kpl": _numbered("000", "KP", per_set, 100, "开盘啦题材"),
        "global": Entities(tuple(c for c, _ in _GLOBAL), tuple(n for _, n in _GLOBAL)),
        "curves": Entities(("1001.CB",), ("中债国债收益率曲线",)),
        "exchanges": Entities(("SSE", "SZSE", "BSE"), ("上交所", "深交所", "北交所"), column="exchange_id"),
        "single": Entities(("",), ("",), column="_none"),
    }
    return sets


def ci_members(seed: int, stock_basic: pd.DataFrame) -> pd.DataFrame:
    """``ci_index_member`` rows: each listed stock's current CITIC industry (levels 1-3, ``is_new`` 'Y'),
    and for about one stock in ten the industry it left (``out_date`` set, ``is_new`` 'N')."""
    ci = ci_industries()
    listed = stock_basic[stock_basic["list_status"] != "G"]
    rng = np.random.default_rng([seed, 77])
    n = len(listed)
    now = rng.integers(0, len(ci.codes), n)
    moved = rng.random(n) < 0.1
    before = (now + 1 + rng.integers(0, len(ci.codes) - 1, n)) % len(ci.codes)
    list_dates = listed["list_date"].to_numpy(dtype=object)
    change = pd.to_datetime(pd.Series(list_dates), format="%Y%m%d") + pd.to_timedelta(
        rng.integers(200, 900, n), unit="D"
    )
    change_text = change.dt.strftime("%Y%m%d").to_numpy(dtype=object)

    def rows(pos: np.ndarray, which: np.ndarray, in_date: np.ndarray, out_date: np.ndarray, new: str) -> pd.DataFrame:
        codes = np.array(ci.codes, dtype=object)[which]
        names = np.array(ci.names, dtype=object)[which]
        return pd.DataFrame(
            {
                "l1_code": codes,
                "l1_name": names,
                "l2_code": [c.replace("CI005", "CI0051") for c in codes],
                "l2_name": [f"{n}Ⅱ" for n in names],
                "l3_code": [c.replace("CI005", "CI0052") for c in codes],
                "l3_name": [f"{n}Ⅲ" for n in names],
                "ts_code": listed["ts_code"].to_numpy(dtype=object)[pos],
                "name": listed["name"].to_numpy(dtype=object)[pos],
                "in_date": in_date,
                "out_date": out_date,
                "is_new": new,
            }
        )

    everyone = np.arange(n)
    current = rows(everyone, now, np.where(moved, change_text, list_dates), np.full(n, None, dtype=object), "Y")
    past_pos = np.flatnonzero(moved)
    past = rows(past_pos, before[past_pos], list_dates[past_pos], change_text[past_pos], "N")
    return pd.concat([current, past], ignore_index=True).sort_values(["l1_code", "ts_code"], kind="stable")
