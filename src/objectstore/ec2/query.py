"""EC2 Query API request parameters: Action=...&ImageId.1=...&Filter.1.Name=... (pure)."""

from __future__ import annotations

import re
from typing import Mapping

_INDEXED = re.compile(r"^(.+)\.(\d+)$")


def indexed(params: Mapping[str, str], prefix: str) -> list[str]:
    """Values of ``prefix.1``, ``prefix.2``, … in index order."""
    found = []
    for name, value in params.items():
        m = _INDEXED.match(name)
        if m and m.group(1) == prefix:
            found.append((int(m.group(2)), value))
    return [v for _, v in sorted(found)]


def filters(params: Mapping[str, str]) -> dict[str, list[str]]:
    """``Filter.N.Name`` / ``Filter.N.Value.M`` as {name: [values]}."""
    out: dict[str, list[str]] = {}
    numbers = sorted({int(m.group(1)) for k in params
                      if (m := re.match(r"^Filter\.(\d+)\.Name$", k))})
    for n in numbers:
        name = params[f"Filter.{n}.Name"]
        out.setdefault(name, []).extend(indexed(params, f"Filter.{n}.Value"))
    return out


def launch_permission_groups(params: Mapping[str, str], op: str) -> list[str]:
    """Groups named by ``LaunchPermission.Add.N.Group`` (or Remove)."""
    found = []
    for name, value in params.items():
        m = re.match(rf"^LaunchPermission\.{op}\.(\d+)\.Group$", name)
        if m:
            found.append((int(m.group(1)), value))
    return [v for _, v in sorted(found)]
