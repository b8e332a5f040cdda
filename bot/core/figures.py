"""Figures in text: what a sentence measures (area, money, a count of something, a year) and
the figures a question states.

Two uses: sentences from different documents that measure the same thing differently are
shown side by side (never one silently), and a figure a candidate states ("it pays
1,000,000, right?") is confirmed only when the evidence holds it.
"""

from __future__ import annotations

import re

from bot.core import nlp

_AREA = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(mu|hectares?|acres?|square met(?:er|re)s?|km2|km²|亩|公顷|平方米)", re.I)
_AREA_UNIT = {"hectare": "ha", "hectares": "ha", "公顷": "ha", "acre": "acre", "acres": "acre", "亩": "mu"}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "k": 1e3, "m": 1e6, "千": 1e3, "万": 1e4, "亿": 1e8}
_MONEY = re.compile(r"(?P<pre>rmb|cny|usd|eur|gbp|aud|cad|sgd|\$|€|£|¥)?\s*(?P<n>\d[\d,]*(?:\.\d+)?)\s*"
                    r"(?P<scale>thousand|million|billion|k(?![a-z])|m(?![a-z])|千|万|亿)?\s*"  # "330K RMB", "$36k"
                    r"(?P<post>rmb|cny|usd|eur|gbp|aud|cad|sgd|yuan|dollars?|euros?|元人民币|元|美元|欧元)?", re.I)
_CURRENCY = {"$": "usd", "dollar": "usd", "dollars": "usd", "美元": "usd", "usd": "usd", "rmb": "cny", "cny": "cny",
             "yuan": "cny", "元": "cny", "元人民币": "cny", "¥": "cny", "eur": "eur", "€": "eur", "euro": "eur",
             "euros": "eur", "欧元": "eur", "£": "gbp", "gbp": "gbp", "aud": "aud", "cad": "cad", "sgd": "sgd"}
# "3,000 people", "11 experts", "约10000名员工": a count and what it counts.
_COUNT = re.compile(r"(\d[\d,]*)\s*(?:[+]|more|多)?\s*(?:名|位|个)?\s*(?:[a-z-]+\s+){0,2}?([a-z]{3,}|员工|人|学生|专家|研究生|毕业生)",
                    re.I)
_COUNTED = re.compile(r"people|employees|staff|researchers|scientists|students|members|experts|supervisors|"
                      r"graduates|postdocs|positions|teams|员工|人|学生|专家|研究生|毕业生", re.I)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def measures(text: str, *, years: bool = False) -> dict[str, float]:
    """What the text measures, by kind and unit: {"area:ha": 90.5, "money:cny": 3e10,
    "count:employee": 3000}; with `years`, also {"year": 2017} (when a date is what is asked)."""
    out: dict[str, float] = {}
    for value, unit in _AREA.findall(text):
        unit = _AREA_UNIT.get(unit.lower(), "m2" if "met" in unit.lower() or "平方" in unit else unit.lower())
        out[f"area:{unit}"] = _number(value)
    for m in _MONEY.finditer(text):
        currency = (m["pre"] or m["post"] or "").lower()
        if currency:
            out[f"money:{_CURRENCY.get(currency, currency)}"] = _number(m["n"]) * _SCALE.get((m["scale"] or "").lower(), 1)
    for value, noun in _COUNT.findall(text):
        if _COUNTED.fullmatch(noun):
            out[f"count:{nlp._stem(noun.lower())}"] = _number(value)
    if years:
        found = _YEAR.findall(text)
        if len(found) == 1:  # one date in the sentence: what it dates is clear enough to compare
            out["year"] = float(found[0])
    return out


def without_measures(text: str) -> str:
    """The text with its sums of money and areas blanked out (what is left may count things)."""
    text = _AREA.sub(" ", text)
    return _MONEY.sub(lambda m: " " if (m["pre"] or m["post"]) else m.group(0), text)


def _number(value: str) -> float:
    return float(value.replace(",", ""))


def disagree(a: dict[str, float], b: dict[str, float]) -> bool:
    """Both measure the same thing in the same unit, with different values."""
    return any(unit in b and b[unit] != value for unit, value in a.items())


_STATED = re.compile(r"\d[\d,.]*\d(?:\s*(?:million|billion|thousand|万|亿|%))?|\d(?:\s*(?:million|billion|万|亿|%))?"
                     r"|[一二两三四五六七八九十百千]+[万亿]", re.I)


def stated(text: str) -> list[str]:
    """The figures written in a text ("1,000,000", "2 million", "一百万")."""
    return [m.group(0).strip() for m in _STATED.finditer(text)]


def _plain(fig: str) -> str:
    return re.sub(r"[,\s]", "", fig.lower())


def supported(figs: tuple[str, ...], evidence: str) -> bool:
    """Every figure a question states appears in the evidence (so quoting it confirms nothing false)."""
    have = {_plain(f) for f in stated(evidence)}
    return all(_plain(f) in have for f in figs)
