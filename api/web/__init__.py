"""The web chat page (``index.html``), served at ``GET /`` by ``api.http``."""
