"""Request and response bodies of the HTTP API. Responses reuse ``rag.types`` (Answer, Passage, Citation, Article).

Request models forbid unknown keys (a typo in a filter name is a 422, not a silently ignored filter), except
the OpenAI-compatible request, which must accept whatever extra parameters OpenAI clients send.

Longer than our usual ~300 lines on purpose: every endpoint's bodies share the strict date, number and text
validators defined here, and one module keeps the API's whole input contract readable in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.errors import InputError
from rag.markup import has_credentials, web_url
from rag.text.dates import parse_date
from rag.types import ChatMessage, Citation, Filters, Passage

# Hard schema ceilings; the configurable, tighter limit (NEWSQA_MAX_QUESTION_CHARS) is checked in the routes.
MAX_TEXT_FIELD = 100_000
MAX_MESSAGES = 100

QUESTION = "Who benefits if Supermicro loses xAI?"


def _date(value: Any, end_of_day: bool) -> datetime | None:
    """ISO 8601 dates and times only (bare ``YYYY-MM-DD`` until/as_of mean the end of that day)."""
    try:
        return parse_date(value, end_of_day=end_of_day, strict=True)
    except InputError as exc:
        raise ValueError(str(exc)) from exc


def valid_unicode(data: Any) -> Any:
    """``data`` unchanged if every string in it can be encoded; a lone surrogate (``"\\ud800"`` in JSON, which
    Python's JSON reader accepts) is refused here instead of failing in the tokenizer as a 500. Iterative, so
    a body nested as deep as the JSON reader allows cannot exhaust the stack."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                where = f"{path}: " if path else ""
                raise ValueError(
                    f"{where}lone surrogate {item[exc.start]!r} at character {exc.start}; send valid Unicode"
                ) from None
        elif isinstance(item, dict):
            for key, value in item.items():
                stack.append((key, path))
                stack.append((value, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((value, f"{path}.{i}" if path else str(i)) for i, value in enumerate(item))
    return data


# Strict types where JSON has the right one: "5" or true is not a number, "yes" is not a boolean.
StrictCount = Annotated[int, Field(strict=True, ge=1, le=100)]
StrictFlag = Annotated[bool, Field(strict=True)]


class FiltersIn(Filters):
    """Filters as a request field: unknown keys are rejected, dates parsed like the CLI's."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"since": "2022-06-01", "until": "2022-06-30", "sources": ["CNN"]}]},
    )

    @field_validator("since", mode="before")
    @classmethod
    def _since(cls, value: Any) -> datetime | None:
        return _date(value, end_of_day=False)

    @field_validator("until", "as_of", mode="before")
    @classmethod
    def _until(cls, value: Any) -> datetime | None:
        return _date(value, end_of_day=True)

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        return [s for s in (v.strip() for v in value) if s]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return valid_unicode(data)


class AskRequest(_Strict):
    question: str = Field(min_length=1, max_length=MAX_TEXT_FIELD, examples=[QUESTION])
    top_k: StrictCount | None = Field(None, description="Passages to read (default NEWSQA_TOP_K).")
    filters: FiltersIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": QUESTION, "top_k": 5, "filters": {"until": "2026-12-31"}}]},
    )


class SearchRequest(_Strict):
    query: str = Field(min_length=1, max_length=MAX_TEXT_FIELD, examples=["Supermicro xAI"])
    k: StrictCount | None = Field(None, description="Number of results (default NEWSQA_TOP_K).")
    filters: FiltersIn | None = None
    group_by_article: StrictFlag = Field(False, description="Rank articles, each represented by its best passage.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "Supermicro xAI", "k": 3, "group_by_article": True}]},
    )


class SearchResponse(BaseModel):
    query: str
    results: list[Passage] = Field(description="Best first; `score` is the final score after the recency prior.")


class ChatRequest(_Strict):
    messages: list[ChatMessage] = Field(
        min_length=1, max_length=MAX_MESSAGES, description="The conversation so far; the last turn is the user's."
    )
    stream: StrictFlag = Field(False, description="Answer as Server-Sent Events: `sources`, `delta`..., `done`.")
    filters: FiltersIn | None = None
    top_k: StrictCount | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "messages": [
                        {"role": "user", "content": QUESTION},
                        {"role": "assistant", "content": "Dell ... benefits from this decision [1]"},
                        {"role": "user", "content": "and who loses?"},
                    ],
                    "stream": True,
                }
            ]
        },
    )

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[ChatMessage]) -> list[ChatMessage]:
        if value and value[-1].role != "user":
            raise ValueError(f"the last message must be the user's question (role 'user'), not role {value[-1].role!r}")
        return value


# ---- OpenAI-compatible ------------------------------------------------------------------------------
class OpenAIContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class OpenAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[OpenAIContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The subset of OpenAI's chat-completions request that newsqa uses; other parameters are accepted and ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"model": "newsqa", "messages": [{"role": "user", "content": QUESTION}]}]},
    )
    model: str = Field("newsqa", examples=["newsqa"])
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False

    @model_validator(mode="before")
    @classmethod
    def _unicode(cls, data: Any) -> Any:
        return valid_unicode(data)

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[OpenAIMessage]) -> list[OpenAIMessage]:
        if value and value[-1].role != "user":
            raise ValueError(f"the last message must be the user's question (role 'user'), not role {value[-1].role!r}")
        return value

    def chat_messages(self) -> list[ChatMessage]:
        """The conversation as newsqa's ChatMessage list (tool turns dropped, developer = system)."""
        out = []
        for m in self.messages:
            if m.role in {"system", "developer", "user", "assistant"}:
                role = "system" if m.role == "developer" else m.role
                out.append(ChatMessage(role=role, content=m.text()))  # type: ignore[arg-type]
        return out


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """OpenAI's `chat.completion` object plus two newsqa fields: `citations` and `abstained`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    citations: list[Citation] = Field(
        default_factory=list,
        description="newsqa extension: the structured sources behind the answer's [n] markers (n = marker number).",
    )
    abstained: bool = Field(False, description="newsqa extension: true when the articles do not answer the question.")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "newsqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


# ---- articles ---------------------------------------------------------------------------------------
class ArticleIn(_Strict):
    """One article: its text and metadata, or only `url` to fetch and extract the page."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Elon Musk's xAI reportedly shifts $6 billion AI server order from Supermicro",
                    "source": "Tom's Hardware",
                    "published": "2024-12-06T10:00:00Z",
                    "url": "https://example.com/xai-supermicro",
                    "text": "Elon Musk's xAI has reportedly moved a $6 billion order ... Dell benefits ...",
                },
                {"url": "https://example.com/some-article"},
            ]
        },
    )
    text: str | None = Field(None, max_length=10_000_000, description="Article body (plain text).")
    title: str | None = Field(None, max_length=2000)
    source: str | None = Field(None, max_length=500, description="The outlet.")
    authors: list[str] = Field(default_factory=list, max_length=100)
    published: datetime | None = None
    url: str | None = Field(None, max_length=4000)

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, value: Any) -> datetime | None:
        return _date(value, end_of_day=False)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        """http(s) only (a ``javascript:`` url became a link on the page and in Slack), and no credentials."""
        if value is None or not value.strip():
            return None
        if web_url(value) is None:
            raise ValueError("`url` must be an absolute http:// or https:// URL")
        if has_credentials(value):
            raise ValueError("`url` must not hold a user name or password (they would be stored and shown)")
        return value.strip()

    @model_validator(mode="after")
    def _text_or_url(self) -> ArticleIn:
        if self.text is None and not self.url:
            raise ValueError("give the article's `text` (with optional metadata), or a `url` to fetch")
        return self


class IngestResult(BaseModel):
    id: str = Field(description="The article's id (for a duplicate: the id of the article already indexed).")
    status: Literal["new", "updated", "duplicate"]
    chunks: int = Field(description="Chunks written (0 for a duplicate).")


class ArticleSummary(BaseModel):
    id: str
    title: str | None = None
    source: str | None = None
    authors: list[str] = Field(default_factory=list)
    published: datetime | None = None
    url: str | None = None
    ingested_at: datetime
    chunks: int


class ArticlePage(BaseModel):
    total: int = Field(description="Articles matching the filters.")
    limit: int
    offset: int
    items: list[ArticleSummary] = Field(description="Newest first.")


class Deleted(BaseModel):
    id: str
    deleted_chunks: int


# ---- health and errors ------------------------------------------------------------------------------
class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready", "starting", "unavailable"]
    articles: int | None = None
    chunks: int | None = None
    detail: str | None = None


class ErrorDetail(BaseModel):
    type: str = Field(description="invalid_request, not_found, unauthorized, too_large, timeout, unavailable...")
    message: str
    field: str | None = Field(None, description="Where in the request the problem is, e.g. `body.filters.since`.")


class ErrorBody(BaseModel):
    """Every error: one readable message (OpenAI's error shape, so OpenAI clients show it)."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Malformed request (bad JSON, unreadable body)",
        401: "Missing or wrong API key (when NEWSQA_API_KEYS is set)",
        413: "Request body too large",
        415: "Content type is not application/json",
        422: "Invalid request; the message says which field and why",
        503: "Store unavailable or the server is still starting",
        504: "Request took longer than NEWSQA_REQUEST_TIMEOUT_S",
    }.items()
}
