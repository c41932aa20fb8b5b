"""Questions that ask for a country, a US state or a continent, checked against a gazetteer
(``rag.text.places``).

"Which country declared victory against Covid-19?" is answered by a sentence that names a country the question
does not; a capitalised word ("President Donald Trump declared a premature victory ...") is not one. A demonym
("Iranian lawmakers have urged ...") points at a country without naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

from rag.answer.answer_type import AUXILIARY, asked_sentence
from rag.text.lexicon import NOT_ENTITIES, SENTENCE_OPENERS
from rag.text.places import CONTINENTS, COUNTRIES, COUNTRY_ALIASES, DEMONYMS, US_STATES

PlaceKind = Literal["country", "state", "continent"]

# "which (island) nation", "what (key) state", "which U.S. state": the noun in lower case, so not "Islamic State",
# "United States" or "United Nations"; not "what is the state of", "head of state", "state media", "state-run".
_ASKS = re.compile(
    rf"\b(?:which|what)\s+(?:(?!(?:{AUXILIARY}|the|a|an|of)\b)[\w’'.-]+\s+){{0,2}}?"
    r"(?-i:(countr(?:y|ies)|nations?|states?|continents?))(?:’s|'s)?(?![\w-])(?!\s+(?:of|media|television|tv)\b)",
    re.I,
)


def _alternation(names: Iterable[str]) -> re.Pattern[str]:
    """One pattern for ``names`` as whole words, longest first ("North Korea" before "Korea")."""
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)")


_NAMED = {"country": _alternation(COUNTRIES), "state": _alternation(US_STATES), "continent": _alternation(CONTINENTS)}
_DEMONYM = _alternation(DEMONYMS)
_DEMONYM_KINDS = {"country": frozenset(DEMONYMS.values()) - frozenset(CONTINENTS), "continent": frozenset(CONTINENTS)}
_WHERE = re.compile(r"\bwhere\b", re.I)
# A place name right after another capitalised word is part of a longer name ("Latin America", "New Mexico",
# "Michael Jordan", "George Washington University", "Native American"), unless that word is a function word
# capitalised to open the sentence ("In Mexico", "Did Iran ...").
_FUNCTION_WORDS = SENTENCE_OPENERS | NOT_ENTITIES
_NAME_BEFORE = re.compile(r"\b([A-Z][\w’'.-]*)\s+$")


def asked_place(question: str) -> PlaceKind | None:
    """What "which (island) nation / (key) state / continent ...?" asks for, else None."""
    match = _ASKS.search(asked_sentence(question))
    if match is None:
        return None
    word = match.group(1).lower()
    return "state" if word.startswith("state") else "continent" if word.startswith("continent") else "country"


def demonym_kinds(question: str) -> tuple[PlaceKind, ...]:
    """The kinds of place a demonym in an answer to ``question`` stands for: a country or a continent for
    "which country/continent ...?" and for "where ...?" ("French-Swiss director ..."), none otherwise."""
    kind = asked_place(question)
    if kind in ("country", "continent"):
        return (kind,)
    return ("country", "continent") if kind is None and _WHERE.search(asked_sentence(question)) else ()


@lru_cache(maxsize=100_000)
def _found(kind: PlaceKind | Literal["demonym"], text: str) -> frozenset[str]:
    """The places of ``kind`` in ``text``, each under one name ("UK", "Britain" -> "United Kingdom"; a demonym
    -> its country or continent)."""
    pattern = _DEMONYM if kind == "demonym" else _NAMED[kind]
    found = [m.group(1) for m in pattern.finditer(text) if not _inside_a_name(text, m.start())]
    if kind == "demonym":
        return frozenset(DEMONYMS[d] for d in found)
    return frozenset(COUNTRY_ALIASES.get(n, n) for n in found) if kind == "country" else frozenset(found)


def _inside_a_name(text: str, start: int) -> bool:
    """Whether the place name at ``start`` follows another capitalised word that is not a function word."""
    before = _NAME_BEFORE.search(text[max(0, start - 40) : start])
    return before is not None and before.group(1).lower().strip(".") not in _FUNCTION_WORDS


def named_places(kind: PlaceKind, sentence: str, question: str) -> list[str]:
    """The places of ``kind`` that ``sentence`` names and ``question`` does not, in sorted order."""
    return sorted(_found(kind, sentence) - _found(kind, question))


def demonym_places(sentence: str, question: str) -> list[str]:
    """The countries and continents ``sentence`` refers to by demonym ("Iranian" -> "Iran") and ``question``
    does not mention."""
    asked = _found("country", question) | _found("continent", question) | _found("demonym", question)
    return sorted(_found("demonym", sentence) - asked)


def place_cue(kind: PlaceKind, sentence: str, question: str) -> float:
    """1.0 when ``sentence`` names a new place of ``kind``, 0.5 when it only refers to a new one by demonym, else
    0.0 (the hand-weighted answerer's cue for these questions; US states have no demonyms here)."""
    if named_places(kind, sentence, question):
        return 1.0
    return 0.5 if set(demonym_places(sentence, question)) & _DEMONYM_KINDS.get(kind, frozenset()) else 0.0
