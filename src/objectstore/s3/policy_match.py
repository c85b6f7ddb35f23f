"""Wildcard patterns of the policy language (Action, Resource, StringLike, ArnLike), pure.

``*`` matches any run of characters (``/`` and ``:`` included), ``?`` any one character.
With Version 2012-10-17 a pattern may hold policy variables, ``${aws:username}`` or
``${aws:username, 'default'}``, and the escapes ``${*}``, ``${?}``, ``${$}`` (a literal
``*``, ``?``, ``$``). A variable's value is matched literally (its ``*`` is no wildcard);
a variable the request cannot resolve and that has no default makes the pattern match
nothing, as IAM documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A variable resolver: the variable's key as written (``aws:username``) -> its single value,
# or None when the request has no such key.
Resolve = Callable[[str], str | None]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")


_WILDCARD = re.compile(r"([*?])")


def _glob_regex(text: str) -> str:
    """``*``/``?`` wildcards of ``text`` as a regex fragment (everything else literal)."""
    return "".join(".*" if part == "*" else "." if part == "?" else re.escape(part)
                   for part in _WILDCARD.split(text) if part)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@dataclass(frozen=True, slots=True)
class _Var:
    key: str  # as written, e.g. "aws:username"
    default: str | None


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern. ``parts`` is None for a pattern without variables."""

    text: str
    ignore_case: bool
    regex: re.Pattern[str] | None  # the whole pattern, when it has no variables
    parts: tuple[str | _Var, ...]  # regex fragments and variables, when it has some

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parts if isinstance(p, _Var))

    def match(self, value: str, resolve: Resolve | None = None) -> bool:
        if self.regex is not None:
            return self.regex.fullmatch(value) is not None
        regex = self.resolved(resolve)
        return regex is not None and regex.fullmatch(value) is not None

    def resolved(self, resolve: Resolve | None) -> re.Pattern[str] | None:
        """The regex with the variables substituted; None when one cannot be resolved."""
        if self.regex is not None:
            return self.regex
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            got = resolve(part.key) if resolve is not None else None
            if got is None:
                got = part.default
            if got is None:
                return None
            out.append(re.escape(got))
        return re.compile("".join(out), re.IGNORECASE | re.DOTALL if self.ignore_case
                          else re.DOTALL)

    def literal(self, resolve: Resolve | None) -> str | None:
        """The text with variables substituted (for exact-match operators); None: unresolved."""
        if not self.parts:
            return self.text
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            got = resolve(part.key) if resolve is not None else None
            if got is None:
                got = part.default
            if got is None:
                return None
            out.append(got)
        return "".join(out)


def compile_pattern(text: str, *, ignore_case: bool = False, variables: bool = True,
                    wildcards: bool = True) -> Pattern:
    """Compile ``text``. ``variables``: interpret ``${...}`` (Version 2012-10-17).

    With ``wildcards`` False the pattern is literal apart from its variables (the
    ``parts`` of a literal pattern are plain text, not regex fragments)."""
    flags = (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL
    frag = _glob_regex if wildcards else (lambda s: s)
    if not variables or "${" not in text:
        regex = re.compile(_glob_regex(text) if wildcards else re.escape(text), flags)
        return Pattern(text, ignore_case, regex, ())
    parts: list[str | _Var] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.append(frag(text[pos:m.start()]))
        inner = m.group(1)
        if inner in _ESCAPES:
            parts.append(re.escape(inner) if wildcards else inner)
        else:
            d = _DEFAULT.match(inner)
            if d is not None:
                parts.append(_Var(d.group(1), d.group(2)))
            else:
                parts.append(_Var(inner.strip(), None))
        pos = m.end()
    if pos < len(text):
        parts.append(frag(text[pos:]))
    if not any(isinstance(p, _Var) for p in parts):
        joined = "".join(p for p in parts if isinstance(p, str))
        regex = re.compile(joined if wildcards else re.escape(joined), flags)
        return Pattern(text if wildcards else joined, ignore_case, regex, ())
    return Pattern(text, ignore_case, None, tuple(parts))
