"""Keep signatures, secrets and customer keys out of the logs.

uvicorn's access log prints each request's path with its query string (a presigned URL's
``X-Amz-Signature`` / ``Signature``), and at ``--log-level trace`` its ASGI message log
prints whole scopes. A filter on the loggers that may see requests replaces such values
with ``REDACTED`` before any handler formats the record. Headers themselves are never
logged (uvicorn's trace log shows them as ``<...>``; our own logs name a request by id).
"""

from __future__ import annotations

import logging
import re

REDACTED = "REDACTED"
# query parameters and header-like fields whose values must never reach a log
_SENSITIVE = re.compile(
    r"(?i)(X-Amz-Signature|Signature|X-Amz-Security-Token|"
    r"x-amz-server-side-encryption-customer-key(?:-md5)?|"
    r"x-amz-copy-source-server-side-encryption-customer-key(?:-md5)?|"
    r"AWSSecretAccessKey|SecretAccessKey|aws_secret_access_key)"
    r"(=|%3D|:\s*|'\s*:\s*'|\"\s*:\s*\")([^&\s'\",;]*)")
_HINTS = ("signature", "secret", "customer-key", "security-token")
LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.asgi", "uvicorn.error", "objectstore",
           "objectstore.registry")


def redact(text: str) -> str:
    """``text`` with every sensitive value replaced by REDACTED."""
    lowered = text.lower()
    if not any(h in lowered for h in _HINTS):
        return text
    return _SENSITIVE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def _clean(arg: object) -> object:
    if isinstance(arg, str):
        return redact(arg)
    if isinstance(arg, (bytes, dict, list, tuple)):
        text = str(arg)
        cleaned = redact(text)
        return arg if cleaned == text else cleaned
    return arg


class RedactFilter(logging.Filter):
    """Rewrites a record's message and arguments in place (keeping the arguments' shape:
    uvicorn's access formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        return True


_FILTER = RedactFilter()


def install() -> None:
    """Put the filter on the loggers that may see a request and on their handlers (which
    catch records of child loggers too); idempotent. Call it after logging is set up."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if _FILTER not in target.filters:
                target.addFilter(_FILTER)
