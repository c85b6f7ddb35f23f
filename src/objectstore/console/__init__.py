"""The web console: static assets (plain ES modules) under ``static/``, served on the
console port by server/console.py (docs/console.md)."""
