"""Real-looking, unique Chinese company names with their pinyin initials (``cnspell``), English names and
full names, built from a two-character brand and an industry ending."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FIRST = {
    "华": "hua", "东": "dong", "中": "zhong", "宏": "hong", "天": "tian", "金": "jin", "海": "hai",
    "新": "xin", "长": "chang", "泰": "tai", "恒": "heng", "正": "zheng", "隆": "long", "国": "guo",
    "永": "yong", "三": "san", "远": "yuan", "博": "bo", "安": "an", "晨": "chen", "德": "de",
    "方": "fang", "光": "guang", "和": "he", "嘉": "jia", "锦": "jin", "凯": "kai", "力": "li",
    "美": "mei", "南": "nan", "鹏": "peng", "青": "qing", "瑞": "rui", "盛": "sheng", "通": "tong",
    "万": "wan", "先": "xian", "亚": "ya", "卓": "zhuo", "北": "bei",
}  # fmt: skip
_SECOND = {
    "信": "xin", "方": "fang", "科": "ke", "达": "da", "润": "run", "山": "shan", "天": "tian",
    "华": "hua", "江": "jiang", "河": "he", "瑞": "rui", "泰": "tai", "基": "ji", "辉": "hui",
    "友": "you", "大": "da", "远": "yuan", "光": "guang", "昌": "chang", "正": "zheng", "明": "ming",
    "顺": "shun", "源": "yuan", "盛": "sheng", "丰": "feng", "锋": "feng", "越": "yue", "辰": "chen",
    "能": "neng", "洋": "yang", "春": "chun", "汇": "hui", "阳": "yang", "祥": "xiang", "元": "yuan",
    "创": "chuang", "德": "de", "诺": "nuo", "荣": "rong", "腾": "teng",
}  # fmt: skip
#: Industry ending -> (pinyin initials, English).
SUFFIXES: dict[str, tuple[str, str]] = {
    "种业": ("zy", "Seed"), "农业": ("ny", "Agriculture"), "农发": ("nf", "Agricultural Development"),
    "牧业": ("my", "Animal Husbandry"), "农牧": ("nm", "Agriculture and Husbandry"),
    "化工": ("hg", "Chemical"), "化学": ("hx", "Chemistry"), "碱业": ("jy", "Alkali"),
    "涂料": ("tl", "Coatings"), "新材": ("xc", "New Materials"), "钢铁": ("gt", "Iron and Steel"),
    "特钢": ("tg", "Special Steel"), "铜业": ("ty", "Copper"), "铝业": ("ly", "Aluminium"),
    "黄金": ("hj", "Gold"), "矿业": ("ky", "Mining"), "微电": ("wd", "Microelectronics"),
    "芯片": ("xp", "Chip"), "半导": ("bd", "Semiconductor"), "电子": ("dz", "Electronics"),
    "精密": ("jm", "Precision"), "汽配": ("qp", "Auto Parts"), "机电": ("jd", "Electromechanical"),
    "汽车": ("qc", "Automobile"), "电器": ("dq", "Electric Appliances"), "家电": ("jd", "Home Appliances"),
    "酒业": ("jy", "Liquor"), "食品": ("sp", "Foods"), "味业": ("wy", "Seasoning"),
    "药业": ("yy", "Pharmaceutical"), "制药": ("zy", "Pharmaceutical Manufacturing"),
    "医药": ("yy", "Medicine"), "中药": ("zy", "Traditional Chinese Medicine"), "医疗": ("yl", "Medical"),
    "电力": ("dl", "Power"), "能源": ("ny", "Energy"), "水电": ("sd", "Hydropower"),
    "地产": ("dc", "Real Estate"), "置业": ("zy", "Property"), "银行": ("yh", "Bank"),
    "证券": ("zq", "Securities"), "保险": ("bx", "Insurance"), "科技": ("kj", "Technology"),
    "智能": ("zn", "Intelligent"), "软件": ("rj", "Software"), "信息": ("xx", "Information"),
    "数据": ("sj", "Data"), "网络": ("wl", "Network"), "光伏": ("gf", "Photovoltaic"),
    "硅业": ("gy", "Silicon"), "光能": ("gn", "Solar Energy"), "锂电": ("ld", "Lithium Battery"),
    "新能": ("xn", "New Energy"),
}  # fmt: skip

_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
_GIVEN = ["建国", "志强", "海涛", "丽华", "文斌", "国平", "晓明", "卫东", "秀英", "宏伟", "振华", "立新"]


@dataclass(frozen=True)
class CompanyName:
    """A company's short name and the texts derived from it."""

    name: str
    fullname: str
    enname: str
    cnspell: str


class CompanyNamer:
    """Hands out unique names: brand x industry ending, brands drawn in a seeded order."""

    def __init__(self, rng: np.random.Generator) -> None:
        brands = [
            (a + b, pa + pb, pa[0] + pb[0]) for a, pa in _FIRST.items() for b, pb in _SECOND.items() if a != b
        ]
        order = rng.permutation(len(brands))
        self._brands = [brands[i] for i in order]
        self._next: dict[str, int] = {}
        self._taken: set[str] = set()
        self._rng = rng

    def name(self, suffixes: tuple[str, ...], st_prefix: str = "") -> CompanyName:
        """A new unique name ending with one of ``suffixes`` (``st_prefix`` such as 'ST' or '*ST')."""
        suffix = suffixes[int(self._rng.integers(len(suffixes)))]
        start = self._next.get(suffix, int(self._rng.integers(len(self._brands))))
        for step in range(len(self._brands)):
            brand, pinyin, brand_initials = self._brands[(start + step) % len(self._brands)]
            if brand + suffix not in self._taken:
                self._next[suffix] = (start + step + 1) % len(self._brands)
                break
        else:  # pragma: no cover - 1,560 brands per ending is far more than any scale needs
            raise RuntimeError(f"no unused brand left for {suffix!r}")
        base = brand + suffix
        self._taken.add(base)
        initials, english = SUFFIXES[suffix]
        spell_prefix = st_prefix.replace("*", "").lower()
        return CompanyName(
            name=st_prefix + base,
            fullname=f"{base}股份有限公司",
            enname=f"{pinyin.title()} {english} Co., Ltd.",
            cnspell=spell_prefix + brand_initials + initials,
        )

    def person(self) -> str:
        """A real-looking person's name (for ``act_name``)."""
        return (
            _SURNAMES[int(self._rng.integers(len(_SURNAMES)))] + _GIVEN[int(self._rng.integers(len(_GIVEN)))]
        )
