"""Closed formats: e-mail addresses, links, phone numbers, dates and sums of money.

These are the facts a candidate most often needs and the ones a loader must never lose: a contact
card of short lines, a deadline, a salary. They have fixed shapes, so patterns are the right tool
here (and only here).
"""

from __future__ import annotations

import re

from bot.core.nlp import CONTACT

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
# (a Chinese landline is an area code and 7-8 digits: "0931-4967095")
PHONE = re.compile(r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w.])"
                   r"|(?<![\w.])0\d{2,3}-\d{7,8}(?![\w.])"
                   r"|(?<![\w.])\+\d{8,14}(?![\w.])")
_PHONE_DIGITS = 7  # fewer digits make a year, a count or a range ("2019", "16-20"), not a phone number


def has_phone_digits(found: str) -> bool:
    """A PHONE match with digits enough to be a phone number."""
    return sum(ch.isdigit() for ch in found) >= _PHONE_DIGITS
DATE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}\b|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
                  r"|\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{4}\b|\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?",
                  re.I)
MONEY = re.compile(r"(?:[$€£¥]|\b(?:rmb|cny|usd|eur|gbp|aud|cad|sgd|jpy|inr|chf)\b)\s?\d[\d,.]*(?:\s?[km])?\b"
                   r"|\d[\d,.]*\s?(?:[km]\s?)?(?:rmb|cny|usd|eur|gbp|aud|cad|sgd|jpy|inr|chf|yuan|dollars|euros)\b"
                   r"|\d[\d,.]*(?:\s*[-–~至]\s*\d[\d,.]*)?\s*(?:万|千)?\s*(?:元|美元|欧元|日元|円)"
                   r"|(?:₹|\brs\.?)\s?\d[\d,.]*"  # rupees: "Rs. 31,000/-"
                   # a rate: "35000/per month", "31,000/- per month"
                   r"|\d[\d,.]*(?:/-)?\s*/?\s*(?:per|each)\s+(?:month|annum|year|week)\b|\d[\d,.]*\s*/\s*(?:month|year)\b",
                   re.I)

# "Salary: 330K", "Application deadline: 1 May 2026", "电话：0755-…": a short label and its value.
LABELLED = re.compile(r"^[^\W\d][\w .&/()'’-]{0,30}[:：]\s*\S")

_KINDS = {"email/url": CONTACT, "phone": PHONE, "date": DATE, "money": MONEY}

# A postal address or a room in one: "Room 203-525", "Floor 17", "No.28, Xianning West Road",
# "1088 Xueyuan Ave.", "London SE1 9RT", "61231 Darmstadt", "Bengaluru 560012", "学苑大道1088号",
# "3-8-1 Komaba, Meguro-ku".
ADDRESS = re.compile(
    r"\b(?i:room|rm|floor|suite|office|building|bldg)\.?\s*[A-Z]?\d+[\w-]*"
    r"|\b(?i:no)\.\s*\d+|\b\d{1,5}[A-Z]?,?\s+(?:[A-Z][\w'’-]*\s+){1,3}(?i:road|rd|street|st|avenue|ave|boulevard"
    r"|blvd|lane|drive|way|marg|strasse|straße|weg|rue)\b"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b|\b[A-Z][a-z]+,?\s+\d{5,6}\b|\b\d{5}\s+[A-Z][a-z]+\b"
    r"|\d+\s*(?:号|室|楼)|邮编"
    # Japanese: a block number and its district, a ward or city, a postal mark ("3-8-1 Komaba, Meguro-ku", 〒153-8902)
    r"|\b\d{1,2}-\d{1,2}-\d{1,3},?\s+[A-Z][a-z]+|\b[A-Z][a-z]+-(?:ku|shi|cho|machi)\b|〒\s*\d{3}-\d{4}|\d+\s*丁目|番地")


def is_address(text: str) -> bool:
    return bool(ADDRESS.search(text))


def facts(text: str) -> dict[str, list[str]]:
    """The closed-format facts in `text`, by kind (a phone number needs 7+ digits, so years and
    counts are not read as phones; an address spelled out to fool robots is read as the address)."""
    out: dict[str, list[str]] = {}
    text = deobfuscate(text)
    for kind, pattern in _KINDS.items():
        found = [m.group(0).strip().rstrip(".,;)") for m in pattern.finditer(text)]
        if kind == "phone":
            found = [f for f in found if has_phone_digits(f) and not DATE.fullmatch(f)]
        if found:
            out[kind] = found
    return out


def has_fact(text: str) -> bool:
    return any(facts(text).values())


_AT = re.compile(r"(?<=\w)\s*(?:\[at\]|\(at\)|<at>|\{at\}|\[@\]|＠)\s*(?=\w)", re.I)
_DOT = re.compile(r"(?<=\w)\s*(?:\[dot\]|\(dot\)|<dot>|\{dot\})\s*(?=\w)", re.I)


# "yunpeng . li AT kcl . ac . uk": an address spelled out with spaces and a capital AT.
_SPELLED = re.compile(r"(?<![\w.])([\w-]+(?:\s?\.\s?[\w-]+)*)\s+AT\s+([\w-]+(?:\s?\.\s?[\w-]+)*\s?\.\s?[a-z]{2,})(?![\w@])")


def deobfuscate(text: str) -> str:
    """"name[at]lab[dot]org", "name<at>lab.org", "name . x AT lab . org" -> "name@lab.org": an address
    a candidate can use."""
    text = _SPELLED.sub(lambda m: "".join(f"{m[1]}@{m[2]}".split()), text)
    return _DOT.sub(".", _AT.sub("@", text))


def normalised(fact: str) -> str:
    """A fact as compared across extractions: case, spaces and punctuation inside it do not matter."""
    return re.sub(r"[\s\-.()/]", "", fact.lower())
