"""One router per resource; ``serve.app`` includes them under /api."""
