"""Article text made harmless where newsqa shows it: no fake citation markers, no markdown links; web URLs only.

An article is untrusted text. Quoted verbatim into an answer, ``... in Oslo [3][12]`` became citation links
to sources that do not exist (the web page links every ``[n]``), and ``[1](https://evil.example)`` rendered as a
citation-looking link to the attacker's site in markdown chat UIs (probe M5). :func:`neutralise` rewrites
marker-like text ``[3]``/``[1, 2]`` to ``(3)``/``(1, 2)`` and breaks ``](`` into ``] (``, a form that reads the
same and renders as plain text in markdown, Slack mrkdwn and the page; so the only ``[n]`` an answer carries
are the engine's own. It is applied to what is *sent* (``Citation.quote``, the extractive answer's sentences);
the stored article text and a citation's ``start``/``end`` offsets stay verbatim.

:func:`web_url` keeps an article's ``url`` only when it is an absolute http(s) URL with a host, minus any
``user:password@`` (probe M6, L8): a ``javascript:`` URL became an ``href`` on the page and a Slack link.

A module of its own below ``rag.types`` (which uses both), importing nothing from newsqa.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;–-]\s*\d+)*\s*)\]")
_LINK = re.compile(r"\]\s*\(")


def neutralise(text: str) -> str:
    """``text`` with citation-marker-like ``[n]`` as ``(n)`` and markdown links ``[a](b)`` as ``[a] (b)``."""
    return _LINK.sub("] (", _MARKER.sub(r"(\1)", text))


def web_url(value: object) -> object:
    """An http(s) URL without credentials, or None; non-strings are passed on for the model to refuse."""
    if not isinstance(value, str):
        return value
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not host:
        return None
    netloc = parts.netloc.rpartition("@")[2]  # user:password@ is dropped, never stored or shown
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def has_credentials(url: str) -> bool:
    """True when ``url`` carries ``user@`` or ``user:password@``."""
    try:
        return "@" in urlsplit(url.strip()).netloc
    except ValueError:
        return False
