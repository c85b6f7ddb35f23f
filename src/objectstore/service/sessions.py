"""Session credentials: STS GetSessionToken's temporary access key, secret and token,
acting exactly as the user whose long-term key asked for them (docs/console.md,
"Signing in"). The web console signs in with them; boto3's ``sts`` client can too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time

from objectstore.s3.errors import S3Error
from objectstore.s3.http import iso8601
from objectstore.service import accounts
from objectstore.storage.meta import NotFound
from objectstore.storage.model import Principal
from objectstore.storage.sqlite import SqliteMeta
from objectstore.storage.sqlite_sessions import Session
from objectstore.sts.xml import Credentials, StsError

PREFIX = "ASIA"  # temporary access keys start so, as AWS's do
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def is_session_key(access_key: str) -> bool:
    return access_key.startswith(PREFIX)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def start(meta: SqliteMeta, principal: Principal, seconds: int) -> Credentials:
    """New session credentials for ``principal`` (signed with a long-term key) that
    expire after ``seconds``."""
    if principal.session_expires is not None:
        raise StsError("AccessDenied", "Cannot call GetSessionToken with session "
                       "credentials", 403)
    access_key = PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    secret = accounts.new_secret()  # the alphabet of long-term secrets
    token = "OSST" + secrets.token_urlsafe(96)
    expires = time.time() + seconds
    try:
        meta.add_session(access_key, secret, token_digest(token), principal.user,
                         principal.access_key, expires)
    except NotFound:  # the key was deactivated or deleted since the request was verified
        raise StsError("InvalidClientTokenId", "The security token included in the "
                       "request is invalid.", 403) from None
    return Credentials(access_key, secret, token, iso8601(expires)[:19] + "Z")


def check(session: Session | None, access_key: str, token: str | None,
          now: float) -> Session:
    """The session a temporary access key names, when ``token`` is its token and it has
    not ended: else the error S3 answers."""
    if session is None:
        raise S3Error("InvalidAccessKeyId", AWSAccessKeyId=access_key)
    if token is None or not hmac.compare_digest(token_digest(token), session.token_sha256):
        raise S3Error("InvalidToken")
    if now >= session.expires:
        raise S3Error("ExpiredToken")
    return session
