"""Errors with messages meant for the user: one readable line saying what to do."""


class NewsqaError(Exception):
    """Base class; ``str(err)`` is shown to the user as is."""


class ConfigError(NewsqaError):
    """A setting is missing or wrong."""


class InputError(NewsqaError):
    """The user's input (file, date, query, request) is invalid."""


class ArticleRejected(InputError):
    """One article cannot be ingested (empty, too large, unreadable); the batch goes on."""


class NotFound(NewsqaError):
    """An article or other object does not exist."""


class StoreUnavailable(NewsqaError):
    """The vector store cannot be reached."""
