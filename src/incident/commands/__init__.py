"""CLI command modules: wiring only. Each exposes `register(app)`; cli.py composes them."""
