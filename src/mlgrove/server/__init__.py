"""The HTTP server: REST API under /api/v1 and the server-rendered web UI."""
