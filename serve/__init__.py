"""``heyan serve``: the tickets server (FastAPI). ``serve.app.create_app`` builds it; see docs/serve.md."""
