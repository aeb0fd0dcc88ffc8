"""Reading a `.cedar` file into policies with ids, annotations and source lines.

cedarpy reports parse and validation errors without positions, so lines are recovered here: a
syntax error is located by parsing growing prefixes of the file (the first prefix that fails for a
reason other than "unexpected end of input" ends on the bad line); a validation error names a
positional policy id, which maps to the statement's lines, and within them to the line mentioning
the offending name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarpy

END_OF_INPUT = "unexpected end of input"
REASON_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class PolicyLoadError(ValueError):
    """A policy file that cannot be used, naming the file, the line and why."""

    def __init__(self, path: str | Path, line: int, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {reason}")


@dataclass(frozen=True)
class Statement:
    """One policy's text and where it sits in its file (1-based, inclusive)."""

    first_line: int
    last_line: int
    text: str


@dataclass(frozen=True)
class SourcePolicy:
    policy_id: str  # "<scope>/<@id>", unique across the bundle
    effect: str  # permit | forbid
    annotations: dict[str, str | None]
    est: dict[str, Any] = field(repr=False)
    statement: Statement = field(repr=False)

    @property
    def requires_human(self) -> bool:
        return "requires_human" in self.annotations

    @property
    def reason(self) -> str | None:
        return self.annotations.get("reason")


def split_statements(text: str) -> list[Statement]:
    """Cut policy text at top-level `;`, skipping strings and `//` comments."""
    statements: list[Statement] = []
    start: int | None = None
    line = 1
    i = 0
    in_string = False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
            elif ch == "\n":
                line += 1
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif ch == "\n":
            line += 1
        elif not ch.isspace():
            if start is None:
                start, first_line = i, line
            if ch == '"':
                in_string = True
            elif ch == ";":
                statements.append(Statement(first_line, line, text[start : i + 1]))
                start = None
        i += 1
    if start is not None:
        statements.append(Statement(first_line, line, text[start:]))
    return statements


def syntax_error_line(text: str) -> int:
    lines = text.splitlines()
    for k in range(1, len(lines) + 1):
        try:
            cedarpy.policies_to_json_str("\n".join(lines[:k]))
        except ValueError as exc:
            if END_OF_INPUT not in str(exc):
                return k
    return max((n for n, l in enumerate(lines, 1) if l.strip()), default=1)


def line_mentioning(statement: Statement, name: str, lines: list[str]) -> int | None:
    """The first line of the statement that mentions `name` (outside comments), or None."""
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    for number in range(statement.first_line, statement.last_line + 1):
        if pattern.search(lines[number - 1].split("//")[0]):
            return number
    return None


def parse_policy_file(path: Path, scope: str, text: str | None = None) -> list[SourcePolicy]:
    """Parse one file; every policy must carry a unique `@id`. Raises `PolicyLoadError`."""
    if text is None:
        try:
            text = path.read_text()
        except OSError as exc:
            raise PolicyLoadError(path, 0, f"cannot read policy file: {exc.strerror}") from None
    try:
        est = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise PolicyLoadError(path, syntax_error_line(text), f"syntax error: {exc}") from None
    if est.get("templates"):
        raise PolicyLoadError(path, 1, "policy templates are not supported in a policy bundle")
    statements = split_statements(text)
    static = est["staticPolicies"]
    if len(statements) != len(static):
        raise PolicyLoadError(path, 1, f"found {len(statements)} statements but Cedar parsed {len(static)} policies")
    policies: list[SourcePolicy] = []
    seen: dict[str, int] = {}
    for index, statement in enumerate(statements):
        body = static[f"policy{index}"]
        annotations = body.get("annotations", {})
        local_id = annotations.get("id")
        if not local_id:
            raise PolicyLoadError(path, statement.first_line, 'policy has no @id("...") annotation')
        if local_id in seen:
            raise PolicyLoadError(
                path, statement.first_line, f"duplicate @id {local_id!r} (first at line {seen[local_id]})"
            )
        seen[local_id] = statement.first_line
        reason = annotations.get("reason")
        if reason is not None and not REASON_PATTERN.match(reason):
            raise PolicyLoadError(path, statement.first_line, f"@reason {reason!r} must match {REASON_PATTERN.pattern}")
        policy = SourcePolicy(f"{scope}/{local_id}", body["effect"], annotations, body, statement)
        if policy.requires_human and policy.effect != "permit":
            raise PolicyLoadError(
                path, statement.first_line, "@requires_human marks an escalation rule and must be a permit"
            )
        policies.append(policy)
    return policies
