"""The access log without query strings: a key sent as ``?api_key=...`` (refused with 401) must not be logged.

uvicorn logs every request on the ``uvicorn.access`` logger as ``'%s - "%s %s HTTP/%s" %d'`` with the path and
its query string as the third argument (probe L9: keys sent as ``?api_key=``, ``?token=`` appeared in the log at
INFO). :func:`install` adds a filter to that logger that cuts the query string. It is installed by
``create_app``, so it covers ``newsqa serve`` with one worker or several (each worker builds its own app), and
it survives uvicorn's logging setup (``dictConfig`` replaces handlers, not filters). Keys sent in the
``Authorization`` header never reach any log.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class DropQueryString(logging.Filter):
    """Rewrites the request-target argument of an access-log record to its path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryString) for f in logger.filters):
        logger.addFilter(DropQueryString())
