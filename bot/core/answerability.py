"""Can this sentence answer this question? Checks beyond "it is near the question".

A similarity floor tells "near the question" from "far from it", not "answers it". Before a
sentence may be quoted as the answer it must:
- be about what the question names (an organisation, lab, programme, person or place): a
  fact about another one is never quoted in its place;
- carry the kind of thing asked for: a figure for "how many", a sum with its currency for
  "how much", a date for "when", a name for "who", a place for "where" (a sentence that says
  where something is, for "which city"), an address or link for "website" or "e-mail".
And a message is read first for what it asks: sentences that instruct the bot ("ignore your
instructions", "confirm that...", "pretend you are...") are dropped, and a message made only
of instructions gets no quoted evidence at all. These are rules about the shape of language,
never about a particular document, lab or question.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from bot.core import figures
from bot.core import formats
from bot.core import nlp

# --- what the message asks --------------------------------------------------------------------

_INSTRUCTION = re.compile(
    r"^\W*(?:(?:system|admin(?:istrator)?|developer|assistant|hr|note to (?:the )?(?:bot|assistant))\s*(?:says?)?\s*:"
    r"|(?:the )?(?:admin|administrator|system|developer|hr|management|boss|recruiter)s?\b[^.?!]{0,30}\b(?:says?|said|wants?|orders?|told)\b"
    r"|new (?:policy|instructions?|rules?)\b"
    r"|(?:please\s+)?(?:ignore|disregard|forget|override|bypass|skip)\b"
    r"|(?:please\s+)?(?:pretend|imagine you|act as|act like|role-?play|play the role|from now on|you are now|you're now|you are no longer"
    r"|switch to|enter\b.{0,20}\bmode|developer mode|jailbreak)"
    r"|(?:please\s+)?(?:print|reveal|show|output|repeat|leak|dump|list|display|give me)\b[^.?!]{0,40}"
    r"\b(?:system prompt|prompt|instructions|rules|configuration|config|api keys?|secrets?|passwords?|tokens?|internal)"
    r"|(?:please\s+)?(?:confirm|say|state|announce|declare|tell (?:the |all )?(?:candidates?|users?|everyone|them|people))\b"
    r"(?!\s+me\b)(?:\s+that\b|[^.?!]*\b(?:is|are|will|gets?|pays?|earns?|has|have)\b)"
    r"|(?:忽略|无视|忘记|忘掉|不要理会|假装|扮演|你现在是|从现在起|从现在开始|系统提示|提示词|开发者模式)"
    r"|(?:请)?(?:确认|宣布|声明|告诉(?:候选人|大家|所有人|用户))"
    r"|(?:列出|输出|打印|显示|泄露).{0,12}(?:内部|系统|指令|配置|密钥|密码))",
    re.I)
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])\s*|(?<=[:：])\s+(?=[A-Z\u4e00-\u9fff])")


# Text in a document that addresses an AI reading it rather than a person ("ignore all previous
# instructions", "as an AI assistant you must..."): never quoted as evidence.
_ADDRESSES_BOT = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|"
    r"system|other)?\s*(?:instructions|prompts?|rules)\b|\bsystem prompt\b|\byou are now\b|\bdeveloper mode\b"
    r"|\b(?:as an?|to any|dear)\s+(?:ai|language model|llm|chatbot|assistant)\b|\b(?:ai|llm|chatbot)s?\s+(?:reading|"
    r"processing)\s+this\b|忽略(?:之前|以上|所有)的?(?:指令|提示)|系统提示词|你现在是", re.I)


@functools.lru_cache(maxsize=65536)  # asked of every candidate sentence of every answer
def addresses_the_bot(sentence: str) -> bool:
    return bool(_ADDRESSES_BOT.search(sentence))


@dataclass(frozen=True)
class Ask:
    """What a message asks, as far as the shape of its words tells."""
    text: str                       # the message without its instructions to the bot
    instructed: bool                # it contained instructions to the bot
    kind: str | None                # amount | quantity | duration | time | name | contact | city | place, or None
    confirm: bool                   # a yes/no or "confirm..." question: figures in it are claims
    figures: tuple[str, ...]        # figures the message states
    counted: frozenset[str] = frozenset()  # what "how many" counts ("employees")


@functools.lru_cache(maxsize=4096)  # the assistant reads a message before and after setting instructions aside
def read(message: str) -> Ask:
    clauses = [c.strip() for c in _CLAUSE.split(message.strip()) if c and c.strip()]
    kept = [c for c in clauses if not _INSTRUCTION.search(c)]
    instructed = len(kept) < len(clauses)
    text = " ".join(kept) if instructed else message.strip()
    confirm, stated = _CONFIRM.search(text) is not None, tuple(figures.stated(text))
    if confirm and stated and not answer_kind(text):  # "Does it have 500 staff?", "It pays 1M RMB, right?"
        kind = "amount" if any(unit.startswith("money:") for unit in figures.measures(text)) else "quantity"
    else:
        kind = answer_kind(text)
    counted = _COUNTED.search(text)
    return Ask(text=text, instructed=instructed, kind=kind, confirm=confirm, figures=stated,
               counted=frozenset(nlp.tokens(counted.group(1))) if counted else frozenset())


_COUNTED = re.compile(r"\bhow many ((?:[a-z-]+\s+){0,2}?[a-z-]+?)(?:\s+(?:are|is|do|does|did|will|work|have|has|were|can)\b|[?.]|$)",
                      re.I)


def predicate(question: str) -> str:
    """The question with the names it asks about replaced by "it": what is asked of them. The
    subject is checked separately, so sentences are ranked by this rather than by name-dropping."""
    out = question
    for e in entities(question):
        out = out.replace(e.surface, "它" if e.cjk else "it")
    return out


_KINDS = [
    ("age", re.compile(r"\b(?:maximum|max|minimum|upper|lower) age\b|\bage (?:limit|cap|requirement|restriction)s?\b"
                       r"|多大年纪|多少岁|几岁|年龄", re.I)),
    ("duration", re.compile(r"\bhow (?:long|old|many (?:years|months|weeks|days))\b|多久|多长时间|多少年|几年",
                            re.I)),
    ("amount", re.compile(r"\bhow much\b|\bwhat (?:is the )?(?:amount|budget|salary|stipend)\b|多少钱|多少资金|多少经费"
                          r"|经费有多少|资金有多少", re.I)),
    ("quantity", re.compile(r"\bhow (?:many|large|big|long|old|far|tall)\b|\bwhat (?:is the )?(?:number|size|"
                            r"percentage)\b|多少|几[个位名年周天项所]|多大|多久|多长|多高|多远|规模|面积", re.I)),
    ("time", re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month)\b|\bwhich (?:year|date|day|month)\b|\bsince when\b"
                        r"|什么时候|何时|哪一?年|哪一?天|几月|几号|哪个月|日期", re.I)),
    ("name", re.compile(r"^\W*(?:and\s+|so\s+)?who(?:m|'s| is| are| was| were| leads?| runs?| heads?| co-?leads?| founded| "
                        r"set up| manages?)?\b|\bwho (?:is|are|was|were|leads?|runs?|heads?|founded|directs?)\b|谁|哪位", re.I)),
    # "email" asks for an address ("the lab's email?", "email address"), not what goes in one ("What should I
    # email to…", "the application email", "email subject line").
    ("contact", re.compile(r"\b(?:website|web ?site|web page|url|homepage|contact details|contact address)\b"
                           r"|\be-?mail\s+(?:address|addresses|id)\b|(?:\b(?:the|his|her|their|its|your|our|whose)|['’]s)"
                           r"\s+e-?mail\s*(?:[?,.]|$|\b(?:and|of|for|at)\b)|\bhow (?:do|can|should|could) (?:i|we) (?:e-?mail|contact|reach)\b"
                           r"|\bwhere (?:should|do|can|to) (?:i|we|you)? ?(?:send|submit|apply)\b|发送到哪|发到哪|寄到哪"
                           r"|网站|网址|主页|邮箱|电子邮件|联系方式|(?:怎么|如何|怎样)(?:通过\w{1,4})?联系", re.I)),
    ("room", re.compile(r"\b(?:which|what|in which) (?:building|room|floor|office(?! hours))\b|\broom number\b|哪栋|哪座楼|哪个楼|几楼|几层"
                        r"|哪个房间|房间号", re.I)),
    ("city", re.compile(r"\b(?:which|what|in which) (?:city|town)\b|哪个城市|哪座城市|什么城市|哪个市", re.I)),
    ("place", re.compile(r"^\W*(?:and\s+)?where\b(?!.*\bcomes? from\b)|\bwhere (?:is|are|was|were|can|should|would)\b"
                         r"|\b(?:in which|which|what) (?:country|province|place|region)\b"
                         r"|哪里|哪儿|在哪(?!些|个方向|种)|哪个(?:省|国家|地方)|什么地方|位于", re.I)),
]
_CONFIRM = re.compile(r"^\W*(?:is|are|does|do|did|was|were|has|have|can|will|is it true|isn't|doesn't)\b"
                      r"|,?\s*(?:right|correct|true|isn't it|doesn't it|no)\s*\?\s*$|\bconfirm\b|是不是|是否|对吗|对不对|是吗|吗[？?]?$",
                      re.I)


def answer_kind(question: str) -> str | None:
    """The kind of answer the question word that comes first asks for: "Who do I write to when I
    apply?" asks for a name; the "when" of its clause asks nothing."""
    found = [(m.start(), i, kind) for i, (kind, pattern) in enumerate(_KINDS) if (m := pattern.search(question))
             and not (m.group().lower() == "when" and _CLAUSE_WHEN.search(question[:m.end()]))]
    return min(found)[2] if found else None


# A "when" after another question word is a clause's: "What should I send when applying?" asks no time.
_CLAUSE_WHEN = re.compile(r"\b(?:what|which|who|whom|whose|how|where|why)\b.*\bwhen$", re.I | re.S)


# --- what a sentence carries --------------------------------------------------------------------

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
                 r"|hundred|thousand|million|billion|dozens?|several|half")
_COUNT_WORDS = re.compile(rf"\b(?:{_NUMBER_WORDS})\b((?:\s+[\w-]+){{1,3}})", re.I)  # the number word and what follows
_MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_HAS_TIME = re.compile(rf"\b(?:1[89]|20)\d\d\b|\b(?:{_MONTHS})\b\.?\s*\d|\b(?:{_MONTHS})\b|\d+\s*年|\d+\s*月|[一二三四五六七八九十]+月"
                       r"|\b(?:spring|summer|autumn|fall|winter|weeks?|days?|months?|years?) (?:ago|later|after|before)\b", re.I)
_HAS_COUNT = re.compile(r"\d|[一二两三四五六七八九十百千万亿]+\s*[个名位人年周天亩公顷平方元多余万亿]")
_DATES = re.compile(rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}},?\s*)?(?:1[89]|20)\d\d\b|\b(?:{_MONTHS})\.?\s+\d{{1,2}}\b"
                    r"|\d{4}\s*年(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?", re.I)


def _spans(en: str, zh: str) -> re.Pattern:
    """A number (in digits or words) of the given units of time: "75 years", "two-month", "3个月"."""
    return re.compile(rf"(?:\d+(?:\.\d+)?|\b(?:{_NUMBER_WORDS}))[\s-]*(?:{en})\b"
                      rf"|(?:\d+|[一二两三四五六七八九十半]+)\s*(?:{zh})(?!\d)", re.I)


# An age or a span of days to years; with hours and minutes, any duration.
_SPAN = _spans("years?|yrs?|months?|weeks?|days?", "年|个月|周|天|岁")
_DURATION = _spans("years?|yrs?|months?|weeks?|days?|hours?|minutes?|mins?", "年|个月|周|天|岁|小时|分钟")
# A list's numbering counts nothing: "申请材料：1. 研究陈述；2. 个人简历".
_NUMBERING = re.compile(r"(?:^|(?<=[\s；;：:(（,，]))\(?\d{1,2}\s*[.、)）](?!\d)")


def _without_numbering(sentence: str) -> str:
    """The sentence without what holds digits but counts nothing: a list's numbering, phone numbers,
    addresses of mail and of the web."""
    sentence = nlp.CONTACT.sub(" ", _NUMBERING.sub(" ", sentence))
    return formats.PHONE.sub(lambda m: " " if formats.has_phone_digits(m.group()) else m.group(), sentence)


_AGE = re.compile(r"\bage[sd]?\b|\byears? old\b|\bborn\b|\d+\s*周?岁|年龄|出生", re.I)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+")
# A name after a locating preposition ("in Sanya", "at the Tibetan plateau").
_PLACE = re.compile(r"\b(?:in|at|near|based in|located in|capital of|city of|province of)\s+(?:the\s+)?"
                    r"(?!(?:the|a|an)\b)[A-Z][\w-]+")
# A sentence that says where something is ("is located in", "sits in", "位于"), not merely one
# that mentions a place ("the first institution in China").
_LOCATES = re.compile(r"\b(?:located|based|sits?|situated|lies|headquartered|stands|housed|opened|set up|launched"
                      r"|established|built|founded) (?:\w+ ){0,3}?(?:in|at|on|near) (?:the )?[A-Z]"
                      # "is an independent institute in Shenzhen", not "was the first institution in China":
                      # a superlative or ordinal ranks something within a place, it does not locate it.
                      r"|\b(?:is|are|was) (?:(?:a|an|the)\s+)?(?:(?!(?:first|second|third|only|top|leading|most|\w+est)\b)"
                      r"[\w-]+\s+){0,4}?(?:in|at) (?:the )?[A-Z]"
                      r"|\bin [A-Z][\w-]+,? (?:the )?(?:capital|a city|city|a port|province)\b"
                      r"|位于|坐落|设在|在[\u4e00-\u9fff]{1,8}(?:成立|建立|设立)")
_PLACE_ZH = re.compile(r"[省市区县州镇路街]|位于|坐落")


def locates(sentence: str) -> bool:
    return bool(_LOCATES.search(sentence))


def carries(kind: str | None, sentence: str, counted: frozenset[str] = frozenset(),
            asked: tuple[str, ...] = ()) -> bool:
    """Whether `sentence` holds the kind of thing the question asks for. A count in words ("two
    co-directors") answers "how many employees" only when it counts what was asked; a name answers
    "who" only when it is not a name the question itself uses (`asked`: "who set up Zhejiang Lab?"
    is not answered by "Zhejiang Lab was set up with 30 billion RMB")."""
    if kind == "amount":
        return any(unit.startswith("money:") for unit in figures.measures(sentence))
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "room":  # a building, floor or room is read from an address, not from "on the campus"
        return formats.is_address(sentence)
    if kind == "age":  # a person's age, not a span: "within 3 years of the PhD" sets no age limit
        return bool(_AGE.search(sentence))
    if kind == "quantity":
        # A year or a date counts nothing, nor does an age or a span of days to years measure a size
        # ("75 years old" is not how large a grant is; "15 minutes" away is how far).
        plain = _SPAN.sub(" ", _DATES.sub(" ", _without_numbering(sentence)))
        if counted:  # nor, for "how many <things>", a sum of money or an area
            plain = figures.without_measures(plain)
        if _HAS_COUNT.search(plain):
            return True
        return any(not counted or counted & set(nlp.tokens(m.group(1)))
                   for m in _COUNT_WORDS.finditer(sentence))
    if kind == "time":
        return bool(_HAS_TIME.search(sentence))
    if kind == "name":
        for name in asked:
            sentence = re.sub(re.escape(name), " ", sentence, flags=re.I)
        # "the Lab", "the University" name no one; "RMB" or "AI" is not a name at all.
        return (any(w.lower() not in _COMMON and w.lower() not in _GENERIC for w in _CAPITAL.findall(sentence))
                or bool(nlp.CJK_RUN.search(sentence)))
    if kind == "contact":
        return bool(nlp.CONTACT.search(sentence))
    if kind == "city":  # a sentence that says where something is, not one that mentions a country
        return bool(locates(sentence) or re.search(r"[\u4e00-\u9fff]{1,6}市", sentence) or formats.is_address(sentence))
    if kind == "place":
        return bool(locates(sentence) or _PLACE.search(sentence) or _PLACE_ZH.search(sentence)
                    or formats.is_address(sentence))
    return True


# --- what the question is about -----------------------------------------------------------------

# Words that say what kind of organisation a name is, not which one: "Zhejiang Lab" is named by
# "Zhejiang", "the Joint Institute of Frontier Technologies" by "frontier technologies".
_GENERIC = frozenset("""
lab labs laboratory laboratories labcom university universities institute institutes academy school college
centre center group company corp corporation inc ltd joint department faculty program programme project team
office division the of and for in at on de du la le national key state international
""".split())
# Acronyms and capitalised words that name no particular organisation.
_COMMON = frozenset("""
ai ml nlp phd msc bsc master masters bachelor cv pi rmb usd cny eur hr faq ok it ceo cto cfo pdf stem ip gpu cpu ui api vr ar iot
i im id tv us uk eu un
what which who whom whose when where why how is are do does did can could will would should may might
tell please hi hello hey thanks thank and or but so also anyway ok okay yes no
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
""".split())
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"  # "André", "Université", "Kühn" are names too
_NAME_WORD = re.compile(r"[A-Z\u00c0-\u00d6\u00d8-\u00de][\w'’&-]*|[A-Z0-9]{2,}[\w-]*|\d+[A-Za-z]+")
_LINK_WORD = frozenset({"of", "and", "for", "the", "&", "de", "on", "in"})
_ZH_SPLIT = re.compile(r"[的和与及跟同在是有为了吗呢吧？?，,。、\s]|哪|什么|多少|怎么|如何|谁|是否")
_ZH_GENERIC = frozenset({"联合", "国家", "重点", "该", "这个", "这家", "贵", "你们", "我们", "这所", "那个", "研究", "人工智能"})


@dataclass(frozen=True)
class Entity:
    surface: str                 # as the question wrote it
    tokens: frozenset[str]       # what must be found (Latin: lower-case words; CJK: the name)
    cjk: bool
    head: str = ""               # the kind of organisation its name ends in ("lab", "university"...)
    owner: str = ""              # the name it belongs to: "Lei Zhu" for "ACMRSG" in "Lei Zhu's ACMRSG group"
    within: str = ""             # the organisation it is a unit of: 东京大学 for 山崎研究室 in "东京大学山崎研究室"
    latin: str = ""              # a Chinese person's name as Latin letters spell it: "qiu ruihong" for 邱瑞鸿

    @functools.cached_property
    def run_together(self) -> tuple[str, ...]:
        """The name's letters in a row, as addresses and file names write it, long enough not to occur
        by chance: "ruihongqiu"; for a person's two names also the other way round, family name first
        as Chinese names are ("Lele Shu" -> "shulele"); a Chinese person's by their Latin spelling."""
        spelled = self.latin or self.surface
        words = spelled.split()
        forms = {_squash(spelled)} | ({_squash(" ".join(reversed(words)))} if len(words) == 2 and not self.head else set())
        return tuple(sorted(f for f in forms if len(f) >= 6))

    @functools.cached_property
    def forms(self) -> tuple[frozenset[str], ...]:
        """The word sets (as `nlp.tokens` reads them) any of which says the whole name on a page: all
        its words, its letters run together; a Chinese name by its characters' pairs, and a Chinese
        person's also by their Latin spelling."""
        if self.cjk:
            forms = [frozenset(t for t in nlp.tokens(next(iter(self.tokens))) if len(t) == 2)]
            if self.latin:
                forms += [frozenset(nlp.tokens(self.latin)), *(frozenset(nlp.tokens(f)) for f in self.run_together)]
        else:
            forms = [self.tokens, *(frozenset(nlp.tokens(f)) for f in self.run_together)]
        return tuple(f for f in forms if f)

    @property
    def parts(self) -> tuple[frozenset[str], ...]:
        """Each word of a Latin name of several, which says it in part ("Dr. Shu" for "Lele Shu")."""
        return tuple(frozenset({t}) for t in self.tokens) if len(self.tokens) > 1 and not self.cjk else ()


def belonging_to(entity: Entity, names: list[Entity]) -> list[Entity]:
    """The names that are units or groups of `entity`: "TAIR" of 伦敦国王学院 in "伦敦国王学院 TAIR 实验室",
    "ACMRSG" of Lei Zhu in "Lei Zhu's ACMRSG group"."""
    return [e for e in names if entity.surface in (e.owner, e.within)]


def linked(entity: Entity, names: list[Entity]) -> list[Entity]:
    """The names a page may say instead of `entity`: its units and groups, and its owner."""
    return belonging_to(entity, names) + [e for e in names if e.surface == entity.owner]


# Kinds of organisation, by the word that ends their names: "Zhejiang Lab" is not "Zhejiang University".
_HEADS = {"lab": "lab", "labs": "lab", "laboratory": "lab", "laboratories": "lab", "labcom": "lab",
          "university": "university", "institute": "institute", "academy": "academy", "school": "school",
          "college": "college", "centre": "centre", "center": "centre", "group": "group", "company": "company"}


_OWNS = "\x00"  # stands for a possessive between two names
_POSSESSIVE_ENDS_NAME = re.compile(r"['’]s\b(?!\s+(?:%s)\b)" % "|".join(k.capitalize() for k in _HEADS))


def entities(question: str) -> list[Entity]:
    return list(_entities(question))


@functools.lru_cache(maxsize=65536)  # asked of questions and of every candidate sentence
def _entities(question: str) -> tuple[Entity, ...]:
    """Names in a question: runs of capitalised words and acronyms ("University of Science and
    Technology of China", "DAMO-USTC"), and Chinese names ending in an organisation word."""
    out: list[Entity] = []
    # A possessive ends a name ("Lele Shu's SHUD team" names Lele Shu and SHUD) unless a kind of
    # organisation follows ("King's College London"); "I'd" is no name.
    question = re.sub(r"['’](?:s|d|m|ve|ll|re|t)\b", "", _POSSESSIVE_ENDS_NAME.sub(f" {_OWNS} ", question))
    words = re.findall(f"[{_LATIN}0-9][{_LATIN}0-9'’&-]*|[^\\s{_LATIN}0-9]", question)
    run: list[str] = []
    owner = ""  # a name just followed by its possessive: the next name, right after it, is its

    def close():
        nonlocal owner
        while run and run[-1].lower() in _LINK_WORD:
            run.pop()
        while run and run[0].lower() in _LINK_WORD:
            run.pop(0)
        if " and " in f" {' '.join(run)} ":  # "USTC and Peking University": two names, unless one
            i = run.index("and")             # side is only part of one ("Science and Technology")
            left, right = run[:i], run[i + 1:]
            if all(_ORG_HEAD.search(" ".join(side)) for side in (left, right)):
                run[:] = left
                close()
                run[:] = right
        if run:
            tokens = {t for w in run for t in re.split(r"[-’']", nlp.fold(w.lower())) if t}
            tokens = {_norm_token(t) for t in tokens
                      if t not in _GENERIC and t not in _COMMON and not t.isdigit() and len(t) > 1}
            tokens.discard("")
            if tokens:
                out.append(Entity(" ".join(run), frozenset(tokens), False, _HEADS.get(run[-1].lower(), ""), owner))
        run.clear()
        owner = ""

    chinese = bool(nlp.CJK_RUN.search(question))  # no capital opens a Chinese sentence: a capitalised word is a name
    for i, w in enumerate(words):
        first_word = (i == 0 or words[i - 1] in ".?!:;\"“") and not chinese
        nxt = words[i + 1] if i + 1 < len(words) else ""
        # A sentence's first word is capitalised anyway: it starts a name only as part of a longer
        # one ("Zhejiang Lab sits..."), or as an acronym; not "Then the lab...".
        opens_name = not first_word or w.isupper() or (bool(_NAME_WORD.fullmatch(nxt)) and nxt.lower() not in _COMMON)
        if _NAME_WORD.fullmatch(w) and w.lower() not in _COMMON and opens_name:
            run.append(w)
        elif w.isupper() and len(w) > 1 and (run or (_NAME_WORD.fullmatch(nxt) and nxt.lower() not in _COMMON)):
            run.append(w)  # "AI" inside a name ("AI Innovation Joint Lab") is part of it
        elif run and w.lower() in _LINK_WORD:
            run.append(w)
        elif (w == "." and run and len(run[-1]) == 1 and run[-1].isupper() and _NAME_WORD.fullmatch(nxt)
              and nxt.lower() not in _COMMON and nxt.lower() not in nlp.STOPWORDS):
            words[i] = "~"  # an initial: "André K. Eckhardt" goes on, and no sentence starts after it
        else:
            close()
            if w == _OWNS and out:
                owner = out[-1].surface
    close()
    for part in _ZH_SPLIT.split(question):
        part = part.strip()
        if not (nlp.CJK_RUN.search(part) and re.fullmatch(r"[A-Za-z0-9\u3400-\u9fff]+", part)):  # "Nova机器人研究院" too
            continue
        # A name ends at the first word for a kind of organisation: "昆士兰大学校园离…" names 昆士兰大学.
        # A short name right after it is a unit of it: "东京大学山崎研究室" names the lab, of the university.
        start, parent = 0, ""
        for m in nlp.ZH_ORGANISATION.finditer(part):
            stem = part[start: m.start()]
            if len(stem) < 2 or (parent and (len(stem) > _ZH_UNIT_NAME or m.group() not in _ZH_UNIT)):
                continue
            if stem in _ZH_GENERIC:
                break
            out.append(Entity(part[start: m.end()], frozenset({nlp.fold(stem)}), True, within=parent))
            start, parent = m.end(), out[-1].surface
        # A person before a title or their team: "黄淦老师", "南方科技大学朱雷老师", "舒乐乐团队".
        for m in nlp.ZH_PERSON.finditer(part, start):
            name = _zh_person(part[start: m.start()])
            if name:  # right after an organisation ("南方科技大学朱雷老师"), the person is of it
                at = m.start() - len(name)
                out.append(Entity(part[at: m.end()], frozenset({nlp.fold(name)}), True, latin=nlp.pinyin(name),
                                  within=parent if at == start else ""))
            start = m.end()
    # "伦敦国王学院 TAIR 实验室": a Latin name right after a Chinese one is a unit of it, as above.
    for i, e in enumerate(out):
        at = question.find(e.surface)
        if e.cjk or e.owner or e.within or at < 0:
            continue
        before = question[:at].rstrip()
        parent = next((p.surface for p in out if p.cjk and before.endswith(p.surface)), "")
        if parent:
            out[i] = replace(e, within=parent)
    # "Huang Gan's group at Shenzhen University", "the Denolle Quake Lab at the University of Washington":
    # the person or group is of the institution named right after it, which names no competing subject.
    for i, e in enumerate(out[1:], 1):
        unit, at = out[i - 1], question.find(e.surface)
        start = question.find(unit.surface)
        kind = e.head or _HEADS.get(e.surface.split()[0].lower(), "")  # "University of Washington"
        if e.cjk or unit.cjk or unit.within or kind not in _INSTITUTIONS or min(at, start) < 0:
            continue
        if _OF_INSTITUTION.fullmatch(question[start + len(unit.surface): at]):
            out[i - 1] = replace(unit, within=e.surface)
    return tuple(out)


# Between a person or group and the institution it belongs to: "'s group at", " at the", " of".
_INSTITUTIONS = frozenset({"university", "institute", "academy", "school", "college", "centre"})
_OF_INSTITUTION = re.compile(r"(?:\s*\x00)?(?:\s+(?:research\s+)?(?:group|lab|laboratory|team))?\s+(?:at|of|in)\s+(?:the\s+)?",
                             re.I)


# A unit within a named organisation: a short name ("山崎", "脑机接口") and a word for a lab or school
# ("…市中心" after a university's name is a place, not a unit of it).
_ZH_UNIT_NAME = 4
_ZH_UNIT = frozenset({"实验室", "研究室", "研究院", "研究所", "研究中心", "学院"})


def _zh_person(before: str) -> str:
    """The Chinese person's name that `before` ends in, by where a common family name starts it
    (given names are one or two characters): "" when none does."""
    for length in (3, 2, 4):
        name = before[-length:]
        if len(name) == length and nlp.CJK_RUN.fullmatch(name) and (
                name[0] in nlp.ZH_FAMILY_NAMES or (length > 2 and name[:2] in nlp.ZH_FAMILY_NAMES)):
            return name
    return ""


def _norm_token(t: str) -> str:
    return nlp._stem(t.strip("'’").lower())


def _acronyms(text: str) -> set[str]:
    """Acronyms a text spells out: "University of Science and Technology of China" -> "ustc"
    (from every run of capitalised words, and every stretch of it)."""
    out = set()
    for m in re.finditer(r"(?:[A-Z][\w-]*(?:\s+(?:of|and|for|the|&)\s+|\s+)){1,8}[A-Z][\w-]*", text):
        initials = "".join(w[0] for w in m.group(0).split() if w[0].isupper()).lower()
        out.update(initials[i:j] for i in range(len(initials)) for j in range(i + 2, len(initials) + 1))
    return out


def _squash(text: str) -> str:
    """The letters and digits in a row: "Ruihong Qiu" -> "ruihongqiu"."""
    return "".join(ch for ch in nlp.fold(text.lower()) if ch.isalnum())


class Context:
    """The words around a sentence that say what it is about: its document's title and owner,
    its section, and its chunk (with acronyms spelled out)."""

    def __init__(self, *parts: str, aliases: dict[str, str] | None = None):
        text = nlp.fold("\n".join(p for p in parts if p))
        self.aliases = aliases or {}  # a name -> the same name in the other script (the lab's, from config)
        self.text = text
        words = re.findall(r"\w+", text.lower())
        self.words = {_norm_token(w) for w in words} | _acronyms(text)
        self.cjk = bool(nlp.CJK_RUN.search(text))
        # word -> the kinds of organisation it names here ("" when it stands alone): "zhejiang" ->
        # {"university"} in a text that only ever says "Zhejiang University".
        self.heads: dict[str, set[str]] = {}
        for i, w in enumerate(words):
            following = next((_HEADS[x] for x in words[i + 1:i + 4] if x in _HEADS), "")
            self.heads.setdefault(_norm_token(w), set()).add(following)

    @functools.cached_property
    def squashed(self) -> str:
        return _squash(self.text)

    def mentions(self, entity: Entity) -> bool | None:
        """True or False; None when it cannot tell (a name in one script, a text in the other)."""
        alias = self.aliases.get(entity.surface.lower())
        if alias:  # the name in the other script is known (the lab's, from config): read that
            if alias.lower() in self.text.lower():
                return True
            if entity.cjk != self.cjk:
                return False
        if entity.cjk:
            if entity.latin and ({_norm_token(w) for w in entity.latin.split()} <= self.words
                                 or any(form in self.squashed for form in entity.run_together)):
                return True  # "Ruihong Qiu" (or "ruihongqiu@…") on a page, for 邱瑞鸿
            if self.cjk:
                return all(t in self.text for t in entity.tokens)
            return False if entity.latin else None  # a person is read by their spelling, an organisation is not
        if not any(c.isascii() and c.isalpha() for c in self.text):
            return None
        if not entity.tokens <= self.words:
            # A name run together, as in addresses and file names ("ruihongqiu", "bonanzhu-bit"):
            # the name's letters in a row, long enough not to occur by chance.
            return any(form in self.squashed for form in entity.run_together)
        if entity.head and len(entity.tokens) == 1:  # one word names it: the kind must agree
            return entity.head in self.heads.get(next(iter(entity.tokens)), set())
        return True


_ANAPHOR = re.compile(r"^(?:[^,;:]{0,40},\s*){0,2}(?:it|its|they|their|this|these|he|she|his|her|there|the (?:lab|laboratory|institute|"
                      r"university|school|centre|center|academy|programme|program|company|group|partners?|two sides)"
                      r")\b|^(?:它|其|该|这|他|她|双方|实验室|学院|研究院)", re.I)


def leans_on_context(sentence: str) -> bool:
    """It opens with "it", "the lab", "该"...: it is about what its passage is about."""
    return bool(_ANAPHOR.match(sentence.strip()))


def names_other_subject(sentence: str, asked: list[Entity], also: set[str], subjects: set[str]) -> bool:
    """The sentence names an organisation-like subject none of the question's names (nor the
    words in `also`) covers ("The second lab is run by DAMO Academy" when the question is about
    another lab). Only a name that is whose pages some found ones are (`subjects`: the words of
    their profiles) competes: an exam, index or technology ("TOEFL", "SCI", "GPU") is no one's page."""
    if leans_on_context(sentence):
        return False
    asked_tokens = set(also).union(*(e.tokens for e in asked), (_initials(e.surface) for e in asked))
    for e in entities(sentence):
        if e.cjk or not names_organisation(e):
            continue
        if not (e.tokens & subjects or _initials(e.surface) in subjects):
            continue
        if not (e.tokens & asked_tokens):
            return True
    return False


def _initials(name: str) -> str:
    """"Nova Robotics Institute" -> "nri": the acronym a text may use for the name."""
    return "".join(w[0] for w in name.split() if w[0].isupper()).lower()


def shares_a_name(entity: Entity, names: str) -> bool:
    """A document profile's names ("denolle uw openings", "Translational AI Research Lab") share a
    distinctive word, or the initials, of the asked name ("Denolle Quake Lab", "University of
    Washington"): the document is about that subject, though it may never spell the whole name."""
    if entity.cjk:  # a Chinese person by their Latin spelling: "ruihongqiu uq recruit phd"
        return bool(names) and any(form in _squash(names) for form in entity.run_together)
    if not names:
        return False
    profile = _profile(names)
    initials = _initials(entity.surface)
    if len(initials) > 1 and initials in profile.words:
        return True
    # A shared word names the same subject unless the profile has it name another kind of thing
    # ("Zhejiang University" is not "Zhejiang Lab").
    return any(t in profile.words and (not entity.head or profile.heads.get(t, {""}) <= {"", entity.head})
               for t in entity.tokens if t not in _HEADS and len(t) > 2)


@functools.lru_cache(maxsize=1024)  # a document's profile, read for question after question
def _profile(names: str) -> Context:
    return Context(names)


def names_organisation(entity: Entity) -> bool:
    """A Latin name that is an organisation's: it ends in "Lab", "University"... or is an acronym."""
    return bool(_ORG_HEAD.search(entity.surface))


_ORG_HEAD = re.compile(r"\b(?:Lab|Labs|Laboratory|Academy|University|Institute|College|School|Centre|Center|Group)\b"
                       r"|\b[A-Z]{3,}\b")
