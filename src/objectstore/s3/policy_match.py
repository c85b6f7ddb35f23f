"""Wildcard patterns of the policy language (Action, Resource, StringLike, ArnLike), pure.

``*`` matches any run of characters (``/`` and ``:`` included), ``?`` any one character.
With Version 2012-10-17 a pattern may hold policy variables, ``${aws:username}`` or
``${aws:username, 'default'}``, and the escapes ``${*}``, ``${?}``, ``${$}`` (a literal
``*``, ``?``, ``$``). A variable's value is matched literally (its ``*`` is no wildcard);
a variable the request cannot resolve and that has no default makes the pattern match
nothing, as IAM documents.

Matching is linear in the value's length for each segment between two ``*``: the regex a
pattern becomes finds each middle segment at its leftmost place inside an atomic group
(``(?>.*?seg)``), which is right for globs (a later place leaves less room for the rest)
and never backtracks into an earlier segment, so no pattern (``a*a*a*...b``) can make a
match take exponential time.
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

# A pattern as atoms: a regex fragment of fixed length (text, ``?``), or None for a ``*``.
Atom = str | None


def _glob_atoms(text: str) -> list[Atom]:
    """``*``/``?`` wildcards of ``text`` as atoms (everything else literal)."""
    return [None if part == "*" else "." if part == "?" else re.escape(part)
            for part in _WILDCARD.split(text) if part]


def glob_regex(atoms: list[Atom]) -> str:
    """The regex (for ``fullmatch``) of a pattern's atoms, without exponential backtracking.

    ``head*mid1*mid2*tail`` becomes ``head(?>.*?mid1)(?>.*?mid2).*tail``: each middle segment
    at its leftmost place, committed; only the last ``.*`` backtracks (over one segment)."""
    segments = [""]
    for atom in atoms:
        if atom is None:
            segments.append("")
        else:
            segments[-1] += atom
    if len(segments) == 1:
        return segments[0]
    middle = "".join(f"(?>.*?{seg})" for seg in segments[1:-1] if seg)
    return f"{segments[0]}{middle}.*{segments[-1]}"


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@dataclass(frozen=True, slots=True)
class _Var:
    key: str  # as written, e.g. "aws:username"
    default: str | None

    def value(self, resolve: Resolve | None) -> str | None:
        """The request's value, else the default; None: unresolved."""
        got = resolve(self.key) if resolve is not None else None
        return self.default if got is None else got


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern. ``parts`` is None for a pattern without variables."""

    text: str
    ignore_case: bool
    regex: re.Pattern[str] | None  # the whole pattern, when it has no variables
    # When it has some: atoms (regex fragments, None for ``*``) and variables; with
    # ``wildcards`` False, plain text and variables.
    parts: tuple[Atom | _Var, ...]
    wildcards: bool = True

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
        atoms: list[Atom] = []
        for part in self.parts:
            if not isinstance(part, _Var):
                atoms.append(part if self.wildcards or part is None else re.escape(part))
                continue
            got = part.value(resolve)
            if got is None:
                return None
            atoms.append(re.escape(got))
        return re.compile(glob_regex(atoms), re.IGNORECASE | re.DOTALL if self.ignore_case
                          else re.DOTALL)

    def unresolved(self, resolve: Resolve | None) -> bool:
        """Whether one of its variables has no value for this request (IAM: the statement
        that holds it is then not valid for the request, so it does not apply)."""
        return any(isinstance(p, _Var) and p.value(resolve) is None for p in self.parts)

    def literal(self, resolve: Resolve | None) -> str | None:
        """The text with variables substituted (for exact-match operators); None: unresolved."""
        if not self.parts:
            return self.text
        out: list[str] = []
        for part in self.parts:
            if not isinstance(part, _Var):
                out.append(part or "")
                continue
            got = part.value(resolve)
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

    def frag(piece: str) -> list[Atom]:
        return _glob_atoms(piece) if wildcards else [piece]

    if not variables or "${" not in text:
        regex = re.compile(glob_regex(_glob_atoms(text)) if wildcards else re.escape(text),
                           flags)
        return Pattern(text, ignore_case, regex, (), wildcards)
    parts: list[Atom | _Var] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.extend(frag(text[pos:m.start()]))
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
        parts.extend(frag(text[pos:]))
    if not any(isinstance(p, _Var) for p in parts):
        atoms = [p for p in parts if not isinstance(p, _Var)]
        if wildcards:
            return Pattern(text, ignore_case, re.compile(glob_regex(atoms), flags), (), True)
        joined = "".join(p or "" for p in atoms)
        return Pattern(joined, ignore_case, re.compile(re.escape(joined), flags), (), False)
    return Pattern(text, ignore_case, None, tuple(parts), wildcards)
