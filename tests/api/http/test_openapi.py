"""The generated OpenAPI documents every endpoint, with request examples and the error shape."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_openapi_documents_endpoints_examples_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/v1/ask": {"post"},
        "/v1/search": {"post"},
        "/v1/chat": {"post"},
        "/v1/chat/completions": {"post"},
        "/v1/models": {"get"},
        "/v1/articles": {"get", "post"},
        "/v1/articles/{article_id}": {"get", "delete"},
        "/healthz": {"get"},
        "/readyz": {"get"},
        "/metrics": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    schemas = spec["components"]["schemas"]
    for path in ("/v1/ask", "/v1/search", "/v1/chat", "/v1/chat/completions", "/v1/articles"):
        ref = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert body.get("examples"), f"{path} has no request example"
        assert "422" in paths[path]["post"]["responses"]
    assert "text/event-stream" in paths["/v1/chat"]["post"]["responses"]["200"]["content"]
    completion = schemas["ChatCompletion"]["properties"]
    assert "citations" in completion and "newsqa extension" in completion["citations"]["description"]
    assert schemas["ErrorBody"]["properties"]["error"]
    assert "/" not in paths  # the page is not part of the API
