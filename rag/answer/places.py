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

from rag.answer.answer_type import asked_sentence, expected_type
from rag.text.places import CONTINENTS, COUNTRIES, COUNTRY_ALIASES, DEMONYMS, US_STATES

PlaceKind = Literal["country", "state", "continent"]

# "which (island) nation", "what (key) state"; not "what is the state of ...", where "state" is no place.
_ASKS = re.compile(
    r"\b(?:which|what)\s+(?:(?!(?:is|are|was|were|the|a|an|do|does|did|has|have|had|will|would|can|could)\b)"
    r"[\w’'-]+\s+){0,2}?(countr(?:y|ies)|nations?|states?|continents?)(?:’s|'s)?\b",
    re.I,
)


def _alternation(names: Iterable[str]) -> re.Pattern[str]:
    """One pattern for ``names`` as whole words, longest first ("North Korea" before "Korea")."""
    ordered = sorted(names, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)")


_NAMED = {"country": _alternation(COUNTRIES), "state": _alternation(US_STATES), "continent": _alternation(CONTINENTS)}
_DEMONYM = _alternation(DEMONYMS)


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
    return ("country", "continent") if kind is None and expected_type(question) == "place" else ()


@lru_cache(maxsize=100_000)
def _found(kind: PlaceKind | Literal["demonym"], text: str) -> frozenset[str]:
    """The places of ``kind`` in ``text``, each under one name ("UK", "Britain" -> "United Kingdom"; a demonym
    -> its country or continent)."""
    pattern = _DEMONYM if kind == "demonym" else _NAMED[kind]
    found = (m.group(1) for m in pattern.finditer(text))
    if kind == "demonym":
        return frozenset(DEMONYMS[d] for d in found)
    return frozenset(COUNTRY_ALIASES.get(n, n) for n in found) if kind == "country" else frozenset(found)


def named_places(kind: PlaceKind, sentence: str, question: str) -> list[str]:
    """The places of ``kind`` that ``sentence`` names and ``question`` does not, in sorted order."""
    return sorted(_found(kind, sentence) - _found(kind, question))


def demonym_places(sentence: str, question: str) -> list[str]:
    """The places ``sentence`` refers to by demonym only ("Iranian" -> "Iran"), not in ``question``."""
    asked = _found("country", question) | _found("continent", question) | _found("demonym", question)
    return sorted(_found("demonym", sentence) - asked)


def place_cue(kind: PlaceKind, sentence: str, question: str) -> float:
    """1.0 when ``sentence`` names a new place of ``kind``, 0.5 when it only refers to a new country or continent
    by demonym, else 0.0 (the hand-weighted answerer's cue for these questions)."""
    if named_places(kind, sentence, question):
        return 1.0
    return 0.5 if kind != "state" and demonym_places(sentence, question) else 0.0
