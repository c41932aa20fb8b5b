"""Question-type cues: what kind of token an answer must carry (entities, dates, numbers)."""

from __future__ import annotations

import re
from typing import Literal

from rag.text.lexicon import NOT_ENTITIES
from rag.text.tokens import tokenize

Cue = Literal["entity", "date", "number", "none"]

_MONTHS = (
    r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|"
    r"nov(ember)?|dec(ember)?)"
)
_DATE = re.compile(
    rf"\b({_MONTHS}\.? \d{{1,2}}\b|\d{{1,2}} {_MONTHS}\b|(mon|tues|wednes|thurs|fri|satur|sun)day|\b(19|20)\d{{2}}\b|"
    r"\d{1,2}/\d{1,2}(/\d{2,4})?|yesterday|today|tomorrow|last (week|month|year)|next (week|month|year))",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(\d|\$|€|£|%|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|"
    r"million|billion|trillion|percent|half|quarter|double|triple)\b)",
    re.IGNORECASE,
)
_ENTITY = re.compile(r"\b[A-Z][\w’'&.-]*(?:\s+(?:(?:of|the|de|&)\s+)?[A-Z][\w’'&.-]*)*")
_WH_ENTITY = re.compile(
    r"^\s*(who|whom|whose|where)\b|\b(which|what) (\w+ )?(company|companies|country|countries|"
    r"state|states|city|cities|team|person|people|firm|firms|group|organi[sz]ation|show|film|movie|"
    r"brand|automaker|airline|bank|network|party|leader|president|player|star|school|university|"
    r"celebrity|singer|actor|actress|nation|agency|court|continent|region|island|"
    r"park|platform|app|website|retailer|carrier|manufacturer|supplier|suppliers|rivals?)\b",
    re.IGNORECASE,
)
_WH_DATE = re.compile(r"^\s*when\b|\bwhat(\s+\w+){0,2}?\s+(date|day|year|month)\b|\bhow soon\b", re.IGNORECASE)
_WH_NUMBER = re.compile(
    r"\bhow (much|many|long|old|far|big|large|high|fast)\b|\bwhat(\s+\w+){0,2}?\s+(percentage|"
    r"percent|share|number|amount|price|cost|rate|magnitude|age|score|sum|total)\b",
    re.IGNORECASE,
)


def question_cue(question: str) -> Cue:
    """The answer type a question asks for."""
    if _WH_NUMBER.search(question):
        return "number"
    if _WH_DATE.search(question):
        return "date"
    if _WH_ENTITY.search(question):
        return "entity"
    return "none"


def entities(text: str) -> list[str]:
    """Capitalised name-like spans (a cheap stand-in for NER), sentence-initial function words removed."""
    out = []
    for match in _ENTITY.finditer(text):
        words = match.group().split()
        while words and words[0].lower().strip("’'") in NOT_ENTITIES:
            words = words[1:]
        if words:
            out.append(" ".join(words).rstrip(".’'"))
    return out


def new_entities(sentence: str, question: str) -> list[str]:
    """Entities of ``sentence`` whose words do not already appear in ``question``."""
    asked = set(tokenize([question])[0])
    return [e for e in entities(sentence) if not set(tokenize([e])[0]) <= asked]


def cue_match(cue: Cue, sentence: str, question: str) -> float:
    """1.0 when the sentence carries the kind of token the question asks for, else 0.0 (0.5: no cue)."""
    if cue == "none":
        return 0.5
    if cue == "date":
        return 1.0 if _DATE.search(sentence) else 0.0
    if cue == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    return min(1.0, len(new_entities(sentence, question)) / 2)  # two new names (or more) beat one
