"""The ``newsqa`` command line: :func:`main` reads the settings, sets up logging and is the error boundary.

Each command lives in ``api/cli/commands/`` and registers its own subparser (:mod:`api.cli.parser`); every
error reaches the user as one ``error: ...`` line and an exit code, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from api.cli.parser import build_parser
from rag.errors import NewsqaError
from rag.settings import Settings, validation_message

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
        args.settings = Settings(**overrides)  # type: ignore[arg-type]
        logging.basicConfig(level=args.settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        for noisy in ("bm25s", "chromadb", "sentence_transformers", "httpx"):
            logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
        return int(args.func(args))
    except ValidationError as exc:
        print(f"error: {validation_message(exc)}", file=sys.stderr)
    except NewsqaError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for the user; the log has details at NEWSQA_LOG_LEVEL=DEBUG
        logging.getLogger("newsqa").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 2
