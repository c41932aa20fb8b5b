"""Who reported it: the original source a sentence credits ("..., reports UDN.com", "according to Reuters",
"X told CNN", "Bloomberg reported", "citing people familiar with the matter", "said in a statement to The Verge").

Why: many articles relay someone else's reporting, so five citations may rest on one original report. A
citation shows its sentence's original source ("Tom's Hardware, citing UDN.com") and an answer counts the
independent original sources behind its citations (:func:`independent_sources`).

What counts (the labelling rule of ``evals/data/attribution.jsonl``): a claim credited to a *named* outlet,
organisation or person ("according to the National Archives", "Axios reported", "told CNN Business"), or to
anonymous sources ("a source privy to the conversations"). A plain "X said" is a statement, not a relayed
report, and is not an attribution; neither is an unnamed one ("according to news reports", "told reporters").
Regular expressions over cue phrases plus a name heuristic (capitalised spans; not ``answer_type.names``, which
drops dateline words such as "CNN"); the
verbs that also take non-outlets ("told", "says", "per", "interview with") only count before an outlet-like
name (a known outlet, a domain, a quoted programme, or a name with a press word: Times, Post, News...).
Measured (``python -m benchmarks.attribution``; docs/measurements.md) on 100 hand-labelled corpus sentences
(44 attributions): precision 0.955, recall 0.955 at first run, 0.977 / 0.977 after one fix that run showed;
on 40 held-out sentences labelled afterwards (11 attributions): precision 0.90, recall 0.82.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.text.ids import source_key
from rag.text.lexicon import MONTHS, WEEKDAYS
from rag.types import Answer, Citation

# A name as written: capitalised words (keeping a capitalised "The"), joined by of/and/&/de, or a quoted title.
_WORD = r"[A-Z0-9][\w’'&.-]*"
_NAME = rf"(?:“[^”]{{2,60}}”|\"[^\"]{{2,60}}\"|{_WORD}(?:\s+(?:(?:of|the|de|and|&)\s+)?{_WORD})*)"
_DET = r"(?:the\s+|a\s+|an\s+)?"
_VERB_LEAD = r"(?:\s+(?:first|previously|also|earlier|originally|has|had|have|later|on \w+day))*"

KNOWN_OUTLETS = frozenset(
    {
        *"ap afp reuters bloomberg axios politico cnn cnbc bbc npr pbs msnbc abc nbc cbs fox udn digitimes".split(),
        *"nikkei yonhap xinhua tass semafor vox vice wired techcrunch engadget gizmodo slate forbes fortune".split(),
        *"buzzfeed tmz variety deadline billboard insider".split(),
        "the verge",
        "the information",
        "the atlantic",
        "the hill",
        "the intercept",
        "the guardian",
        "the economist",
        "financial times",
        "associated press",
        "usa today",
        "60 minutes",
        "tom's hardware",
        "ars technica",
        "business insider",
    }
)
_PRESS_WORD = re.compile(
    r"\b(?:News|Times|Post|Journal|Press|Today|Tribune|Herald|Gazette|Guardian|Telegraph|Chronicle|Observer|"
    r"Examiner|Inquirer|Bee|Sun|Star|Globe|Daily|Magazine|Radio|TV|Television|Network|Insider|Wire|Register|"
    r"Dispatch|Independent|Mirror|Standard|Monitor|Weekly|Reporter|Courier|Sentinel|Missoulian)\b",
    re.IGNORECASE,
)
_HONORIFIC = {"gov", "sen", "rep", "mr", "ms", "mrs", "dr", "president", "gen", "lt", "col", "sgt", "prof"}
_ANON = re.compile(
    r"^(?:(?:an?|one|two|three|several|multiple|some|other|another)\s+(?:[\w-]+\s+){0,5}?)?"
    r"(?:sources?|officials?|person|people|insiders?|aides?)\b",
    re.IGNORECASE,
)
_MONTHS_DAYS = {*MONTHS, *WEEKDAYS}
_CLAUSE_END = re.compile(r"\s*(?:[,;:()—–]|\.(?:\s|$)|\s+and\s+(?:an?|another|the)\b|\s+(?:who|which|that)\b|$)")


@dataclass(frozen=True)
class Attribution:
    """One credited source: its name as written, the cue that credits it, and where the name is."""

    source: str
    cue: str
    start: int
    anonymous: bool = False


def is_outlet(name: str) -> bool:
    """Whether ``name`` looks like a news outlet: a known one, a domain, a quoted title, or a press word."""
    key = source_key(name.strip('“”"')).removeprefix("the ")
    first = key.split(" ")[0] if key else ""
    return bool(
        key in KNOWN_OUTLETS
        or f"the {key}" in KNOWN_OUTLETS
        or first in KNOWN_OUTLETS
        or re.search(r"\.(?:com|net|org|tw|cn|co\.\w\w)$", key)
        or name[:1] in '“"'
        or _PRESS_WORD.search(name)
    )


def _clean(name: str) -> str | None:
    """A name without a trailing possessive or full stop; None when it is only a title ("Gov.")."""
    name = re.sub(r"(?:['’]s)$", "", name.strip().rstrip(".,")).strip('“”" ')
    if not name or source_key(name).rstrip(".") in _HONORIFIC:
        return None
    return name


def _source_in(clause: str) -> tuple[str, bool] | None:
    """The source a clause names after "according to"/"citing": anonymous sources, else its first name."""
    end = _CLAUSE_END.search(clause)
    phrase = clause[: end.start()] if end else clause
    if _ANON.match(phrase) and len(phrase.split()) <= 12:
        return phrase.strip(), True
    for match in re.finditer(_NAME, phrase):  # not answer_type.names: it drops "CNN" (a dateline word there)
        cleaned = _clean(_strip_leading(match.group()))
        if cleaned and source_key(cleaned) not in _MONTHS_DAYS:
            return cleaned, False
    return None


_N = rf"(?P<name>{_NAME})"
_REPORTS = r"(?:reported|reports|report)"
_SAYS = r"(?:says|said|claims|claimed|writes|wrote|notes|noted)"
_STUDY = r"(?:report|study|survey|analysis|poll)"
_FOUND = r"(?:found|finds|says|said|shows|showed)"
# (cue, pattern with a "name" group, whether the name must look like an outlet)
_NAMED: list[tuple[str, re.Pattern[str], bool]] = [
    ("told", re.compile(rf"\btold\s+{_DET}{_N}"), True),
    ("statement to", re.compile(rf"\b(?:statement|interview|email|remarks?)\s+(?:to|with)\s+{_DET}{_N}"), True),
    ("per", re.compile(rf"(?:^|,\s*)(?:per|via)\s+{_DET}{_N}"), True),
    ("reported", re.compile(rf"{_N}{_VERB_LEAD}\s+{_REPORTS}\b(?!\s+(?:by|from))"), False),
    ("reported", re.compile(rf"\breported\s+(?:\w+\s+){{0,2}}by\s+{_DET}{_N}"), False),
    ("reported", re.compile(rf"(?:^|,\s*)(?:reports|reported)\s+{_DET}{_N}\W*$"), False),
    ("report", re.compile(rf"\b{_STUDY}\s+(?:by|from)\s+{_DET}{_N}"), False),
    ("report", re.compile(rf"{_N}(?:['’]s)?\s+{_STUDY}\s+{_FOUND}\b"), False),
    ("says", re.compile(rf"{_N}{_VERB_LEAD}\s+{_SAYS}\b"), True),
    ("says", re.compile(rf"(?:^|,\s*)(?:says|said|writes|wrote)\s+{_DET}{_N}\W*$"), True),
]
_OPEN = re.compile(r"\b(?P<cue>according to|citing|as reported by)\s+", re.IGNORECASE)


def attributions(sentence: str) -> list[Attribution]:
    """Every source ``sentence`` credits, in the order they appear (none when it credits no one)."""
    found: list[Attribution] = []
    for m in _OPEN.finditer(sentence):
        got = _source_in(sentence[m.end() :])
        if got:
            found.append(Attribution(got[0], m["cue"].lower(), m.end(), anonymous=got[1]))
    for cue, pattern, outlet_only in _NAMED:
        for m in pattern.finditer(sentence):
            name = _clean(_strip_leading(m["name"]))
            if name and (not outlet_only or is_outlet(name)):
                found.append(Attribution(name, cue, m.start("name")))
    found.sort(key=lambda a: a.start)
    unique: list[Attribution] = []
    for a in found:  # one name found by two cues counts once
        if not any(source_key(a.source) == source_key(b.source) for b in unique):
            unique.append(a)
    return unique


def _strip_leading(name: str) -> str:
    """Drop a leading sentence word that is not part of the name ("But the Las Vegas Sun" has none; "However")."""
    words = name.split()
    while len(words) > 1 and source_key(words[0]) in {"but", "and", "however", "meanwhile", "also", "in", "on"}:
        words = words[1:]
    return " ".join(words)


def reported_by(sentence: str) -> str | None:
    """The first source ``sentence`` credits, or None."""
    found = attributions(sentence)
    return found[0].source if found else None


def attribute_citations(citations: Iterable[Citation]) -> None:
    """Set each citation's ``reported_by`` from its quote (not when it credits the citing outlet itself)."""
    for c in citations:
        if c.reported_by is None:
            source = reported_by(c.quote)
            if source and not _same_outlet(source, c.source):
                c.reported_by = source


def attribute(answer: Answer) -> Answer:
    """Stamp the final answer: each citation's ``reported_by`` and the answer's ``independent_sources``
    (``QueryEngine`` calls this on every answer, so every answerer gets it)."""
    attribute_citations(answer.citations)
    answer.independent_sources = independent_sources(answer.citations) if answer.citations else None
    return answer


def _same_outlet(a: str | None, b: str | None) -> bool:
    ka, kb = source_key(a).removeprefix("the "), source_key(b).removeprefix("the ")
    return bool(ka and kb) and (ka == kb or ka.split(".")[0] == kb.split(".")[0])


def original_sources(citations: Iterable[Citation]) -> set[str]:
    """The originals the citations rest on, per article: the sources its quotes credit, else its own outlet
    (an article relaying UDN.com is UDN.com's report, all its quotes; anonymous sources are its own)."""
    credited: dict[str, set[str]] = {}
    own: dict[str, str] = {}
    for c in citations:
        own.setdefault(c.article_id, _key(c.source or c.article_id))
        if c.reported_by and not _ANON.match(c.reported_by):  # unnamed sources: the outlet's own reporting
            credited.setdefault(c.article_id, set()).add(_key(c.reported_by))
    return set().union(*(credited.get(a) or {own[a]} for a in own)) if own else set()


def _key(name: str) -> str:
    return source_key(name).removeprefix("the ")


def independent_sources(citations: Iterable[Citation]) -> int:
    """How many independent original sources the citations rest on: articles relaying the same original
    (or from the same outlet) count once; syndicated copies are already one citation (``also_in``)."""
    return len(original_sources(citations))


def outlet_label(citations: list[Citation], unknown: str = "unknown outlet") -> str:
    """ "Tom's Hardware, citing UDN.com": an article's outlet and the sources its cited quotes credit."""
    outlet = citations[0].source or unknown
    cited: list[str] = []
    for c in citations:
        if c.reported_by and all(source_key(c.reported_by) != source_key(x) for x in cited):
            cited.append(c.reported_by)
    if not cited:
        return outlet
    return f"{outlet or 'an unnamed outlet'}, citing {' and '.join(cited)}"


def sources_summary(citations: list[Citation]) -> str | None:
    """ "3 articles, 2 independent sources" when some cited quote relays another source's report (None when
    none does: then every article is its own report and the source list says all there is)."""
    if not any(c.reported_by for c in citations):
        return None
    articles = len({c.article_id for c in citations})
    originals = independent_sources(citations)
    return (
        f"{articles} article{'s' if articles != 1 else ''}, "
        f"{originals} independent source{'s' if originals != 1 else ''}"
    )
