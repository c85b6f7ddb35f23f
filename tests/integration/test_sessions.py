"""Session credentials (STS GetSessionToken): what the web console signs in with. boto3's
own sts client asks for them; every S3 signing style then works with them, and only with
their token; they act exactly as their user; they end when they expire, when revoked and
when the long-term key they came from is deleted."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from harness import Creds, Server, new_bucket

NO_RETRY = Config(retries={"max_attempts": 1})


def sts_client(server: Server, creds: Creds, token: str | None = None) -> Any:
    return boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds.access_key,
                        aws_secret_access_key=creds.secret_key, aws_session_token=token,
                        config=NO_RETRY)


def session_s3(server: Server, c: dict[str, Any], token: str | None = None,
               **config: Any) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=c["AccessKeyId"],
                        aws_secret_access_key=c["SecretAccessKey"],
                        aws_session_token=c["SessionToken"] if token is None else token,
                        config=Config(retries={"max_attempts": 1}, **config))


def end_session(server: Server, access_key: str) -> None:
    sql, args = "UPDATE sessions SET expires = ? WHERE access_key = ?", (time.time() - 1,
                                                                          access_key)
    if server.meta_url is not None:
        import psycopg

        with psycopg.connect(server.meta_url, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), args)
        return
    import sqlite3

    db = sqlite3.connect(server.data_dir / "meta.sqlite3", timeout=10)
    with db:
        db.execute(sql, args)
    db.close()


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    resp = info.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def test_session_acts_as_its_user_in_every_signing_style(server: Server) -> None:
    user = server.new_user()
    answer = sts_client(server, user).get_session_token(DurationSeconds=900)
    assert answer["ResponseMetadata"]["HTTPHeaders"]["cache-control"] == "no-store"
    c = answer["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and len(c["SessionToken"]) > 100
    left = c["Expiration"].timestamp() - time.time()
    assert 800 < left <= 900
    v4 = session_s3(server, c)
    name = new_bucket(v4, "sess")
    v4.put_object(Bucket=name, Key="k", Body=b"session bytes")
    # the bucket belongs to the user's account, as if the long-term key had made it
    owner = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id=user.access_key,
                         aws_secret_access_key=user.secret_key)
    assert owner.get_object(Bucket=name, Key="k")["Body"].read() == b"session bytes"
    v2 = session_s3(server, c, signature_version="s3")
    assert v2.get_object(Bucket=name, Key="k")["Body"].read() == b"session bytes"
    for client in (v4, v2):
        url = client.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "k"},
                                            ExpiresIn=60)
        assert "ecurity-" in url  # the token travels in the URL
        assert urllib.request.urlopen(url, timeout=10).read() == b"session bytes"


def test_wrong_or_missing_token_is_refused(server: Server) -> None:
    user = server.new_user()
    c = sts_client(server, user).get_session_token()["Credentials"]
    assert error_of(session_s3(server, c, token="x" * 40).list_buckets) == ("InvalidToken", 400)
    no_token = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id=c["AccessKeyId"],
                            aws_secret_access_key=c["SecretAccessKey"], config=NO_RETRY)
    assert error_of(no_token.list_buckets) == ("InvalidToken", 400)
    forged = dict(c, SecretAccessKey="A" * 40)
    assert error_of(session_s3(server, forged).list_buckets)[0] == "SignatureDoesNotMatch"


def test_sts_errors(server: Server) -> None:
    user = server.new_user()
    c = sts_client(server, user).get_session_token()["Credentials"]
    # session credentials cannot make more session credentials (as in AWS)
    again = sts_client(server, Creds(c["AccessKeyId"], c["SecretAccessKey"], "", ""),
                       c["SessionToken"])
    assert error_of(again.get_session_token) == ("AccessDenied", 403)
    unknown = sts_client(server, Creds("AKIANOSUCHKEY0000000", "x" * 40, "", ""))
    assert error_of(unknown.get_session_token) == ("InvalidClientTokenId", 403)
    badsig = sts_client(server, Creds(user.access_key, "y" * 40, "", ""))
    assert error_of(badsig.get_session_token) == ("SignatureDoesNotMatch", 403)
    # out-of-range DurationSeconds (boto3 checks the range itself: a raw signed request)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=60"
    req = AWSRequest("POST", server.endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(user.access_key, user.secret_key), "sts", "us-east-1").add_auth(req)
    raw = urllib.request.Request(server.endpoint + "/", data=body.encode(), method="POST",
                                 headers=dict(req.headers))
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(raw, timeout=10)
    text = info.value.read().decode()
    assert info.value.code == 400 and "<Code>ValidationError</Code>" in text, text
    assert "<ErrorResponse" in text and "greater than or equal to 900" in text
    # digits Python's int() takes but STS does not, and absurd lengths: never a 500
    for odd in ("%C2%B2", "9" * 5000):
        form = f"Action=GetSessionToken&Version=2011-06-15&DurationSeconds={odd}"
        req = AWSRequest("POST", server.endpoint + "/", data=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        SigV4Auth(Credentials(user.access_key, user.secret_key), "sts",
                  "us-east-1").add_auth(req)
        raw = urllib.request.Request(server.endpoint + "/", data=form.encode(),
                                     method="POST", headers=dict(req.headers))
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(raw, timeout=10)
        assert info.value.code == 400, odd
        assert "<Code>ValidationError</Code>" in info.value.read().decode()


def test_expired_session_is_refused(tmp_path: Any) -> None:
    from harness import new_server, running

    srv = new_server(tmp_path / "data")
    with running(srv):
        user = srv.new_user()
        c = sts_client(srv, user).get_session_token(DurationSeconds=900)["Credentials"]
        s3 = session_s3(srv, c)
        s3.list_buckets()
        # the session's end moved into the past, as 15 minutes passing would
        end_session(srv, c["AccessKeyId"])
        assert error_of(s3.list_buckets) == ("ExpiredToken", 400)


def test_deleting_the_long_term_key_ends_its_sessions(server: Server) -> None:
    user = server.new_user()
    c = sts_client(server, user).get_session_token()["Credentials"]
    s3 = session_s3(server, c)
    s3.list_buckets()
    server.admin("key", "delete", user.access_key)
    assert error_of(s3.list_buckets) == ("InvalidAccessKeyId", 403)


def test_session_keeps_the_users_policy(server: Server) -> None:
    user = server.new_user()
    owner = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                         aws_access_key_id=user.access_key,
                         aws_secret_access_key=user.secret_key)
    name = new_bucket(owner, "pol")
    server.admin("user", "policy", "set", user.user, "--canned", "readonly")
    c = sts_client(server, user).get_session_token()["Credentials"]
    s3 = session_s3(server, c)
    s3.list_objects_v2(Bucket=name)
    assert error_of(s3.put_object, Bucket=name, Key="k", Body=b"x") == ("AccessDenied", 403)


def test_rotating_the_keyring_ends_sessions(tmp_path: Any) -> None:
    """Session secrets are sealed by the keyring too: a rotation ends them (their users sign
    in again) rather than leave them needing a key `keyring prune` may drop."""
    from harness import new_server, running

    srv = new_server(tmp_path / "data")
    with running(srv):
        user = srv.new_user()
        c = sts_client(srv, user).get_session_token()["Credentials"]
        session_s3(srv, c).list_buckets()
        srv.admin("keyring", "rotate")
        assert "dropped 1 retired keys" in srv.admin("keyring", "prune")
        assert error_of(session_s3(srv, c).list_buckets)[0] in ("InvalidAccessKeyId",
                                                                 "ExpiredToken")
        fresh = sts_client(srv, user).get_session_token()["Credentials"]
        session_s3(srv, fresh).list_buckets()
