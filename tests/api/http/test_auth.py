"""Optional API keys: /v1 needs a Bearer key when NEWSQA_API_KEYS is set; health checks stay open."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from pydantic import SecretStr


def test_keys_required_when_set(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_keys=SecretStr("alpha-key, beta-key"))
    missing = client.get("/v1/models")
    assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/v1/ask", json={"question": "q"}, headers={"Authorization": "Bearer alpha-kex"})
    assert wrong.status_code == 401 and "alpha" not in wrong.text  # keys are never echoed
    for key in ("alpha-key", "beta-key"):
        ok = client.get("/v1/articles", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200 and ok.json()["total"] == 1
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    # Auth is checked before the body is parsed: no hint about the API without a key.
    assert client.post("/v1/chat", json={"messages": []}).status_code == 401


def test_no_keys_no_auth(client: TestClient) -> None:
    assert client.get("/v1/models").json()["data"][0]["id"] == "newsqa"
    assert client.get("/v1/articles", headers={"Authorization": "Bearer anything"}).status_code == 200
