"""The error of an AWS Query API (EC2's and STS's ``Action=...`` requests): its code, its
message and the HTTP status it is answered with (pure)."""

from __future__ import annotations


class QueryError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
