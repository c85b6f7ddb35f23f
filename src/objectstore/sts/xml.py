"""STS Query API answers: GetSessionToken's result and STS's error document (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from objectstore.query_errors import QueryError

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
VERSION = "2011-06-15"
MIN_SECONDS = 900  # GetSessionToken's DurationSeconds range (IAM users)
MAX_SECONDS = 129600
DEFAULT_SECONDS = 43200


class StsError(QueryError):
    """An error of the STS Query API."""


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret: str
    token: str
    expiration: str  # ISO 8601, UTC


def duration(value: str | None, cap: int) -> int:
    """DurationSeconds: 900..129600 as STS allows, then at most ``cap`` (the server's
    --max-session-seconds); absent: 12 hours, capped the same way."""
    if value is None or value == "":
        return min(DEFAULT_SECONDS, cap)
    if not (value.isascii() and value.isdigit()):
        raise _invalid(value, "of type integer")
    if len(value) <= 6 and int(value) < MIN_SECONDS:
        raise _invalid(value, f"greater than or equal to {MIN_SECONDS}")
    if len(value) > 6 or int(value) > MAX_SECONDS:
        raise _invalid(value, f"less than or equal to {MAX_SECONDS}")
    return min(int(value), cap)


def _invalid(value: str, must: str) -> StsError:
    return StsError("ValidationError", f"1 validation error detected: Value '{value[:64]}' at "
                    "'durationSeconds' failed to satisfy constraint: Member must have value "
                    f"{must}")


def session_token_response(creds: Credentials, request_id: str) -> bytes:
    return (f'{HEAD}<GetSessionTokenResponse xmlns="{NS}"><GetSessionTokenResult>'
            f"<Credentials><AccessKeyId>{escape(creds.access_key)}</AccessKeyId>"
            f"<SecretAccessKey>{escape(creds.secret)}</SecretAccessKey>"
            f"<SessionToken>{escape(creds.token)}</SessionToken>"
            f"<Expiration>{escape(creds.expiration)}</Expiration></Credentials>"
            "</GetSessionTokenResult><ResponseMetadata>"
            f"<RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
            "</GetSessionTokenResponse>").encode()


def error(code: str, message: str, request_id: str, status: int) -> bytes:
    kind = "Receiver" if status >= 500 else "Sender"
    return (f'{HEAD}<ErrorResponse xmlns="{NS}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>").encode()
