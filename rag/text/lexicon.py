"""Every word list in one place, written as readable words; stemmed forms are computed at import.

The answerer's calibrated thresholds depend on these lists, so a change here is a change of behaviour:
re-run ``benchmarks/answers.py`` and refresh the sample baseline (``newsqa eval sample --update-baseline``).
"""

from __future__ import annotations

from bm25s.stopwords import STOPWORDS_EN

from rag.text.tokens import stem

# bm25s's English stop words: what the tokenizer drops (``rag.text.tokens``).
STOPWORDS: frozenset[str] = frozenset(STOPWORDS_EN)

# Words that say what is asked, not what the evidence must contain ("why did X ..." -> X).
QUESTION_WORDS: frozenset[str] = frozenset(
    "how many much what which who whom whose when where why did do does was is are were has have had "
    "will would could should can".split()
)
# The same words as the tokenizer stems them (``why`` -> ``whi``): question terms are compared as stems.
# Words the tokenizer drops as stop words never reach the comparison and are left out.
QUESTION_STEMS: frozenset[str] = frozenset(stem(sorted(QUESTION_WORDS - STOPWORDS)))

# Capitalised only because they open a sentence: not named entities (verifier and cue extraction).
SENTENCE_OPENERS: frozenset[str] = frozenset(
    "the a an it its this that these those there they their he she his her we you i in on at as after before "
    "however but and or according while when if some many most both all also meanwhile since because although "
    "despite with for from by yes no so then other another each one two three such what which who where why how "
    "not only still yet thus instead overall today currently now".split()
)

# Calendar names, in calendar order (``MONTHS[0]`` is January).
MONTHS: tuple[str, ...] = tuple(
    "january february march april may june july august september october november december".split()
)
WEEKDAYS: tuple[str, ...] = tuple("monday tuesday wednesday thursday friday saturday sunday".split())

# Capitalised words that are not the entity a question asks about (answer cues strip them from names).
NOT_ENTITIES: frozenset[str] = frozenset(
    "the a an in on at but and or if it its this that these those he she they we i you his her their our as for "
    "to of with by from after before when while since so then there here what which who why how mr ms mrs dr "
    "however meanwhile also still according last next cnn ap reuters will would could should can might must is "
    "are was were do does did has have had".split()
) | frozenset(WEEKDAYS)

# Function words dropped when a follow-up borrows the previous question's topic (chat condensing).
FUNCTION_WORDS: frozenset[str] = frozenset(
    "who whom whose what which when where why how is are was were do does did the a an if of to in on for and "
    "or about with by from at as be been will would could should can it that this".split()
)

# Openers that the LLM answerer lower-cases after "As of <date>, ..." (they are not names).
LOWERCASE_OPENERS: frozenset[str] = frozenset("the a an it its there this that these those they their some".split())
