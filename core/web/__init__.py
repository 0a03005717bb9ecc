"""The web side shared by every package: request scope and ids, security headers, CSRF,
error pages and the one JSON error shape, health, metrics, the OpenAPI document, and the
site's base templates and static files."""
