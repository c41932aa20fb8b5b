"""Expected answer type of a question, and whether a sentence holds an instance of it not in the question.

Why: MiniLM similarity and term coverage measure whether a sentence is on the question's topic, not whether
it answers it. A sentence that answers "when is the deadline?" holds a date; one that answers "who will
benefit?" names someone the question does not. The type comes from the wh-word plus its head noun
(*deadline/date/when* -> date; *how much/worth/cost/price/share* -> amount; *how many* -> count;
*who/which company/outlet/regulator* -> name; *where/born* -> place; *why/cause* -> reason), and the check
looks for an instance of that type whose words are not already in the question. It is one of the signals of
the learned scorer (``rag/answer/scorer.py``); the measured effect is in that module's docstring.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from rag.text.lexicon import MONTHS, NOT_ENTITIES, STOPWORDS, WEEKDAYS

AnswerType = Literal["date", "amount", "count", "name", "place", "reason", "yesno", "other"]
TYPES: tuple[AnswerType, ...] = ("date", "amount", "count", "name", "place", "reason", "yesno", "other")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    rf"\b(?:{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?\b|\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\b|"
    rf"{_MONTH} (?:19|20)\d\d|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:19|20)\d\d\b|\d{1,2}/\d{1,2}(?:/\d{2,4})?|"
    r"yesterday|today|tomorrow|tonight|(?:last|next|this) (?:week|month|year|spring|summer|fall|autumn|winter)|"
    r"(?:early|mid|late)[- ](?:" + _MONTH[3:-1] + r")|in (?:" + _MONTH[3:-1] + r")\b|"
    r"(?:first|second|third|fourth) quarter|(?:within|in) (?:\w+ )?(?:days|weeks|months|years))",
    re.IGNORECASE,
)
_NUMWORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|hundred|thousand|dozens?|hundreds|thousands|millions|billions)"
)
_AMOUNT = re.compile(
    r"[$€£¥]\s?\d|\d[\d,.]*\s?(?:%|percent|per cent|percentage points?|(?:m|b)n\b|million|billion|trillion|"
    r"dollars|euros|pounds|yuan|yen|cents?|points?|basis points)|\b(?:half|double|triple|doubled|tripled)\b",
    re.IGNORECASE,
)
_COUNT = re.compile(rf"\b\d[\d,.]*\b|\b{_NUMWORD}\b|\ba (?:dozen|hundred|thousand|million)\b", re.IGNORECASE)
_REASON = re.compile(
    r"\b(?:because|due to|as a result|after|amid|since|caused by|owing to|thanks to|blamed|in order to|"
    r"so that|reason|following|in response to|over concerns?|citing|led to|prompted|to (?:protect|prevent|avoid|"
    r"help|boost|reduce|curb|address|combat))\b",
    re.IGNORECASE,
)
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|across|outside|inside)\s+(?:the\s+)?[A-Z][\w.'’-]+")
_NAME = re.compile(r"\b[A-Z][\w’'&.-]*(?:\s+(?:(?:of|the|de|van|von|&|and)\s+)?[A-Z][\w’'&.-]*)*")
_LEADING = NOT_ENTITIES | frozenset(MONTHS)

# (pattern on the question, type): first match wins, so the specific rules come first.
_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    (
        re.compile(
            r"^\s*why\b|\bwhat(?:'s| is| was)? (?:behind|the reason|caused|prompted|led to)|\bfor what reason\b|"
            r"\bwhat (?:cause|reason)",
            re.I,
        ),
        "reason",
    ),
    (
        re.compile(
            r"^\s*when\b|\bwhat (?:\w+ ){0,2}?(?:date|day|year|month|time|deadline)\b|\bby when\b|"
            r"\bhow soon\b|\b(?:deadline|date)\b.*\?$",
            re.I,
        ),
        "date",
    ),
    (re.compile(r"\bhow many\b|\bwhat (?:\w+ ){0,2}?number of\b|\bhow old\b", re.I), "count"),
    (
        re.compile(
            r"\bhow (?:much|long|far|big|large|high|fast|tall|deep)\b|\bwhat (?:\w+ ){0,5}?(?:percentage|"
            r"percent|share|amount|price|cost|rate|magnitude|sum|total|value|worth|salary|fine|valuation|"
            r"temperature|speed|score)\b|\b(?:worth|cost)\b",
            re.I,
        ),
        "amount",
    ),
    (
        re.compile(
            r"^\s*where\b|\bwhat (?:\w+ ){0,2}?(?:country|countries|city|cities|state|states|place|region|"
            r"island|continent|location|venue|county|province|town)\b|\bwhich (?:\w+ ){0,2}?(?:country|"
            r"countries|city|cities|state|states|place|region|island|continent|location|venue|county|province|"
            r"town)\b|\bborn\b",
            re.I,
        ),
        "place",
    ),
    (
        re.compile(
            r"^\s*(?:who|whom|whose)\b|\b(?:which|what) (?:\w+ ){0,2}?(?:company|companies|firm|firms|outlet|"
            r"regulator|agency|person|people|group|team|organi[sz]ation|brand|automaker|airline|bank|network|"
            r"party|leader|president|player|star|singer|actor|actress|celebrity|court|court|university|school|"
            r"retailer|carrier|manufacturer|supplier|suppliers|rivals?|platform|app|website|newspaper|show|"
            r"film|movie|book|song|album|athlete|official|senator|governor|ceo|executive|candidate|nominee|"
            r"judge|lawmaker|billionaire|musician|band|country's|nation)\b|^\s*(?:which|name)\b|\bcalled\b|"
            r"\bname of\b|\bwhat is (?:his|her|its|their) name\b|\bstand for\b",
            re.I,
        ),
        "name",
    ),
    (re.compile(r"^\s*(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should)\b", re.I), "yesno"),
]


def asked_sentence(question: str) -> str:
    """The sentence that asks ("NASA launched X this week. Where did it occur?" -> the second one)."""
    pieces = [p for p in re.split(r"(?<=[.?!])\s+(?=[A-Z“\"])", question.strip()) if p.strip()]
    merged: list[str] = []
    for p in pieces:  # "Roe v. Wade?" is not a sentence of its own
        if merged and len(p.split()) < 4:
            merged[-1] += " " + p
        else:
            merged.append(p)
    asking = [p for p in merged if p.rstrip().endswith("?")]
    return (asking or merged or [question])[-1]


_WHICH_NOUN = re.compile(
    r"\b(?:which|what)\s+(?!(?:is|was|are|were|did|does|do|has|have|had|will|would|can)\b)\w+", re.I
)


def expected_type(question: str) -> AnswerType:
    """The answer type ``question`` asks for ("other" when no rule applies, e.g. "what did X say?"). Only the
    asking sentence counts; a "which/what <noun>" with no more specific rule asks for a name."""
    asked = asked_sentence(question)
    for pattern, kind in _RULES:
        if pattern.search(asked):
            return kind
    return "name" if _WHICH_NOUN.search(asked) else "other"


def question_words(text: str) -> set[str]:
    """The words of a question as :func:`instances` compares them."""
    return _words(text)


def _words(text: str) -> set[str]:
    return {w.strip(".’'").lower() for w in re.findall(r"[\w$€£%’'.-]+", text)}


def names(text: str) -> list[str]:
    """Capitalised name-like spans (a cheap stand-in for NER), leading function words and months removed."""
    out = []
    for match in _NAME.finditer(text):
        words = match.group().split()
        while words and words[0].lower().strip("’'.") in _LEADING:
            words = words[1:]
        if words:
            out.append(" ".join(words).rstrip(".’'"))
    return out


@lru_cache(maxsize=200_000)
def _raw_spans(kind: AnswerType, sentence: str) -> tuple[str, ...]:
    """Spans of ``kind`` in ``sentence`` before the question is considered (cached: sentences recur)."""
    if kind == "date":
        return tuple(m.group() for m in _DATE.finditer(sentence))
    if kind == "amount":
        return tuple(m.group() for m in _AMOUNT.finditer(sentence))
    if kind == "count":
        return tuple(m.group() for m in _COUNT.finditer(sentence) if not re.fullmatch(r"(19|20)\d\d", m.group()))
    if kind == "name":
        return tuple(names(sentence))
    if kind == "place":
        return tuple(m.group().split(None, 1)[1] for m in _PLACE_CUE.finditer(sentence))
    if kind == "reason":
        return tuple(m.group() for m in _REASON.finditer(sentence))
    return ()


@lru_cache(maxsize=200_000)
def _span_words(span: str) -> frozenset[str]:
    return frozenset(_words(span))


def instances(kind: AnswerType, sentence: str, question: str, asked: set[str] | None = None) -> list[str]:
    """Spans of ``sentence`` of type ``kind`` whose words are not all in ``question`` (for "reason", the cue
    words found; for "other" and "yesno", none). ``asked``: the question's words, when already computed."""
    spans = _raw_spans(kind, sentence)
    if kind == "reason" or not spans:
        return list(spans)
    asked = _words(question) if asked is None else asked
    return [s for s in spans if not _span_words(s) <= asked]


def type_match(kind: AnswerType, sentence: str, question: str) -> float:
    """1.0 when the sentence holds a new instance of the expected type, 0.0 when not, 0.5 when the type is
    "other" or "yesno" (no instance to look for)."""
    if kind in ("other", "yesno"):
        return 0.5
    return 1.0 if instances(kind, sentence, question) else 0.0


AUXILIARY = r"(?:is|are|was|were|will|would|did|does|do|has|have|had|could|can|should|might|may)"
# What a "how many" question counts: the word before its verb (an auxiliary, a preposition or a past tense).
_COUNTED = re.compile(
    rf"\bhow many\s+(?:[\w’'-]+\s+){{0,3}}?([\w’'-]+)\s+(?:{AUXILIARY}|in|of|at|for|on|to|\w+ed)\b", re.I
)
_NUMBER = re.compile(rf"\d[\d,.]*(?:st|nd|rd|th)?|{_NUMWORD}|dozen|hundred|thousand|million|billion", re.I)


def counted_noun(question: str) -> str | None:
    """What a "how many" question counts ("How many dinosaur tracks were uncovered?" -> "tracks"), else None."""
    match = _COUNTED.search(asked_sentence(question))
    return match.group(1).lower() if match else None


def _stem(word: str) -> str:
    return re.sub(r"(?:ies|es|s)$", "", word.lower().strip(".,;:’'"))[:6]


_PRONOUN_ONE = {"no", "any", "every", "some", "each"}  # "no one threatened Russia" counts nobody


def quantifies(sentence: str, noun: str, reach: int = 4) -> bool:
    """Whether ``sentence`` puts a number on ``noun``: a number (digits or words) at most ``reach`` words before
    it ("31 men", "more than 10,000 monkeypox cases", "six episodes")."""
    tokens = sentence.split()
    target = _stem(noun)
    return any(
        _NUMBER.fullmatch(token.strip(".,;:()$"))
        and not (token.lower() == "one" and i and tokens[i - 1].lower() in _PRONOUN_ONE)
        and any(_stem(t) == target for t in tokens[i + 1 : i + 1 + reach])
        for i, token in enumerate(tokens)
    )


_ASKED_NOUN = re.compile(
    rf"\b(?:which|what)\s+(?:[\w’'-]+\s+){{0,3}}?([\w’'-]+)\s+(?:{AUXILIARY}|in|of|at|for|on|to|\w+ed|won|got|saw|made|became|took|had|\w+s)\b",
    re.I,
)


def asked_noun(question: str) -> str | None:
    """The noun a "which/what X" question asks for ("Which wildly popular show was green lit?" -> "show")."""
    match = _ASKED_NOUN.search(asked_sentence(question))
    return match.group(1).lower() if match else None


def describes(sentence: str, noun: str) -> bool:
    """Whether ``sentence`` refers to something by a description built on ``noun`` ("the wildly popular South
    Korean show", "the band") rather than by its name: an anaphor whose antecedent names the answer. Not when a
    name follows the noun ("the meal kit service Daily Harvest": that names it), nor for another number of it
    ("the top 10 Senate seats" is a list, not the seat asked about)."""
    tokens = [t.strip(".,;:()’'\"“”").lower() for t in sentence.split()]
    raw = sentence.split()
    for i, token in enumerate(tokens):
        if token not in ("the", "this"):
            continue
        for j in range(i + 1, min(i + 6, len(tokens))):
            if tokens[j] == noun:
                after = raw[j + 1] if j + 1 < len(raw) else ""
                named = after[:1].isupper() or after[:1] in "“\"'"
                counted = any(_NUMBER.fullmatch(t) for t in tokens[i + 1 : j])
                if not (named or counted or raw[j][-1:] in "’'"):
                    return True
                break
    return False


_DEMONSTRATIVE = re.compile(
    r"^(?:(?:but|and|so|yet|still),?\s+)?(?:those|these|that|this|such)\s+((?:[a-z][\w’'-]*\s*){1,3})", re.I
)
# "This week, ..." and "That Sunday ..." say when, not what: no antecedent to find.
_WHEN_WORDS = frozenset(
    "week weekend year month day morning afternoon evening night time season summer spring fall autumn winter".split()
) | frozenset(WEEKDAYS)
# A demonstrative followed by one of these is a pronoun ("That said, ...", "This means ...", "Those who ...").
_NOT_DESCRIPTIONS = frozenset("said means meant includes included comes came makes made marks marked follows "
                              "followed led who whom whose which that what".split())  # fmt: skip


def anaphor(sentence: str) -> list[str]:
    """The content words of the description a sentence opens with when it refers back to something named
    before it ("But those supermarket shelves are now empty" -> ["supermarket", "shelves"]), else []. The
    description ends at an auxiliary ("are")."""
    match = _DEMONSTRATIVE.match(sentence.strip())
    if match is None:
        return []
    words = [w.strip("’'").lower() for w in match.group(1).split()]
    first = re.sub(r"[’']s$", "", words[0])
    if first in _WHEN_WORDS or first in _NOT_DESCRIPTIONS or re.fullmatch(AUXILIARY, first):
        return []
    described = []
    for w in words:
        if re.fullmatch(AUXILIARY, w):
            break
        described.append(w)
    return [w for w in described if len(w) > 3 and w not in STOPWORDS]


_FIGURE_REFERENCE = re.compile(
    r"^(?:that|this)(?:[’']s| is| was)\s+(?:how (?:much|many|long|far|old|big)|the (?:number|percentage|amount|share|"
    r"price|cost|total|sum|figure|age))\b",
    re.I,
)


def refers_to_figure(sentence: str) -> bool:
    """Whether ``sentence`` refers back to a figure stated just before it, as newsletters write ("$12.6 million.
    That’s how much a 1952 Mickey Mantle card sold for ...")."""
    return bool(_FIGURE_REFERENCE.match(sentence.strip()))


def holds_figure(text: str) -> bool:
    """Whether ``text`` holds a number or an amount."""
    return bool(_AMOUNT.search(text) or _COUNT.search(text))


def refers_to(antecedent: str, words: list[str]) -> bool:
    """Whether ``antecedent`` holds one of ``words`` (compared by their first six letters, plural dropped)."""
    wanted = {_stem(w) for w in words}
    return any(_stem(t) in wanted for t in re.findall(r"[\w’'-]+", antecedent))
