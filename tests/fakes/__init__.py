"""Shared test doubles: a free 127.0.0.1 port, the deterministic hash embedder, fake LLM and Slack servers."""
