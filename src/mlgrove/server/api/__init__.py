"""REST API routers, one module per area, mounted under /api/v1."""
