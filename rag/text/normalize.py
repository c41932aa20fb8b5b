"""Text normalisation shared by ingest (cleaning) and answers (candidate filters).

One definition, so a change here moves ingest and the answerer's calibrated filters together, visibly.
"""

from __future__ import annotations

import html
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f0-9][\w'’.-]*")
# A number as written in news text ("6", "1.725", "6,000"): the product's support test and the eval's judge
# both check that a sentence's numbers occur in its passage, and must agree on what a number is.
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

# Phrases that mark a line as a call to action or navigation when the line is short.
_CTA = re.compile(
    r"\b(sign ?up|sign ?in|log ?in|subscribe|subscription|newsletter|download (the|our) app|get the app|"
    r"start reading|read more|continue reading|keep reading|already a member|create (a|an) (free )?account|"
    r"free trial|days free|advertisement|sponsored|share (this|on)|follow us|cookie|privacy policy|"
    r"terms of (use|service)|all rights reserved|skip to|menu|back to top|click here|watch now|listen to|"
    r"related (stories|articles|coverage)|more from|recommended|top stories|our picks|trending|most read|"
    r"most popular|you may also like|see also|membership|premium|register)\b",
    re.IGNORECASE,
)


def normalize_text(text: str) -> str:
    """Unicode NFC, HTML entities decoded, control characters and runs of spaces removed, <=1 blank line."""
    text = unicodedata.normalize("NFC", html.unescape(text)).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def words(line: str) -> int:
    return len(_WORD.findall(line))


def is_call_to_action(line: str) -> bool:
    return words(line) <= 12 and bool(_CTA.search(line))
