"""The policy bundle: the org policy plus every domain's policy, validated against the schema.

A domain's policy is evaluated only for that domain's own columns, together with the org policy
(whose forbids no domain permit can override, since Cedar's forbid wins). Policies annotated
`@requires_human` are escalation rules: they never grant, they only flag a share for a human.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

import cedarpy

from hurricane_assets.catalog import Catalog
from hurricane_assets.identity import canonical_json
from hurricane_assets.policy.model import cedar_schema, column_entities, vocabulary
from hurricane_assets.policy.required import check_required_forbids
from hurricane_assets.policy.source import PolicyLoadError, SourcePolicy, line_mentioning, parse_policy_file

ORG_POLICY_FILE = "org_policy.cedar"
DOMAIN_POLICY_FILE = "policy.cedar"
ORG_SCOPE = "org"
COMPARISONS = ("==", "!=")
SET_TESTS = ("contains", "containsAll", "containsAny")


def _attribute(node: Any) -> str | None:
    if isinstance(node, dict) and "." in node:
        inner = node["."]
        if inner.get("left", {}).get("Var") in ("resource", "context"):
            return inner["attr"]
    return None


def _literals(node: Any) -> list[str]:
    if isinstance(node, dict) and isinstance(node.get("Value"), str):
        return [node["Value"]]
    if isinstance(node, dict) and isinstance(node.get("Set"), list):
        return [v for item in node["Set"] for v in _literals(item)]
    return []


def _compared_literals(node: Any) -> Iterator[tuple[str, str]]:
    """(attribute, string literal) pairs a policy compares, anywhere in its condition tree."""
    if isinstance(node, list):
        for item in node:
            yield from _compared_literals(item)
        return
    if not isinstance(node, dict):
        return
    for op, body in node.items():
        if op in COMPARISONS + SET_TESTS and isinstance(body, dict) and "left" in body:
            for attr_side, value_side in ((body["left"], body["right"]), (body["right"], body["left"])):
                attr = _attribute(attr_side)
                if attr is not None:
                    for literal in _literals(value_side):
                        yield attr, literal
        yield from _compared_literals(body)


ENTITIES_LABEL = "entities (from the manifests)"


@dataclass(frozen=True)
class PolicyBundle:
    """Every policy text and the schema they were validated against; `sha256` identifies it."""

    schema_text: str
    texts: dict[str, str]  # file label -> text, e.g. "org_policy.cedar", "payments/policy.cedar"
    org: tuple[SourcePolicy, ...]
    domains: dict[str, tuple[SourcePolicy, ...]]
    entities_json: str = field(repr=False)

    @cached_property
    def sha256(self) -> str:
        # the entities (each column's classification, pii, tags, purposes and environments, from the
        # manifests) decide as much as the texts: without them a manifest change kept the hash, so the
        # same need returned the stored negotiation decided under the old manifest
        return hashlib.sha256(canonical_json({"schema": self.schema_text, "policies": self.texts,
                                              "entities_sha256": self.entities_sha256})).hexdigest()

    @cached_property
    def entities_sha256(self) -> str:
        return hashlib.sha256(self.entities_json.encode()).hexdigest()

    @cached_property
    def file_sha256(self) -> dict[str, str]:
        """Each policy file's own hash, and the manifests' entities', so an auditor sees what a bundle
        change touched."""
        files = {label: hashlib.sha256(text.encode()).hexdigest() for label, text in sorted(self.texts.items())}
        return {**files, ENTITIES_LABEL: self.entities_sha256}

    @cached_property
    def schema(self) -> cedarpy.Schema:
        return cedarpy.Schema.from_str(self.schema_text)

    @cached_property
    def entities(self) -> cedarpy.Entities:
        return cedarpy.Entities.from_json_str(self.entities_json, self.schema)

    @cached_property
    def by_id(self) -> dict[str, SourcePolicy]:
        return {p.policy_id: p for group in (self.org, *self.domains.values()) for p in group}

    def _policy_set(self, policies: list[SourcePolicy]) -> cedarpy.PolicySet:
        est = {"staticPolicies": {p.policy_id: p.est for p in policies}, "templates": {}, "templateLinks": []}
        return cedarpy.PolicySet.from_json_str(json.dumps(est))

    @cached_property
    def _sets(self) -> dict[str, tuple[cedarpy.PolicySet, cedarpy.PolicySet]]:
        sets = {}
        for domain, own in self.domains.items():
            policies = [*self.org, *own]
            sets[domain] = (
                self._policy_set([p for p in policies if not p.requires_human]),
                self._policy_set([p for p in policies if p.requires_human]),
            )
        return sets

    def decision_set(self, producer: str) -> cedarpy.PolicySet:
        """Org policy plus the producer's own policy: what decides allow/deny for its columns."""
        return self._sets[producer][0]

    def escalation_set(self, producer: str) -> cedarpy.PolicySet:
        return self._sets[producer][1]


def _validate(path: Path, text: str, policies: list[SourcePolicy], schema: str, vocab: dict[str, set[str]]) -> None:
    lines = text.splitlines()
    result = cedarpy.validate_policies(text, schema)
    for error in result.errors:
        match = re.match(r"policy(\d+)$", error.policy_id or "")
        if not match:
            raise PolicyLoadError(path, 1, error.error)
        statement = policies[int(match.group(1))].statement
        named = [n.split("::")[-1].strip('"') for n in re.findall(r"`([^`]+)`", error.error)]
        found = [line_mentioning(statement, n, lines) for n in named if n and not re.match(r"policy\d+$", n)]
        line = next((n for n in found if n is not None), statement.first_line)
        message = re.sub(r"^for policy `policy\d+`,?\s*:?\s*", "", error.error)
        raise PolicyLoadError(path, line, f"policy {policies[int(match.group(1))].policy_id}: {message}")
    for policy in policies:
        for attr, literal in _compared_literals(policy.est.get("conditions", [])):
            known = vocab.get(attr)
            if known is not None and literal not in known:
                line = line_mentioning(policy.statement, literal, lines) or policy.statement.first_line
                shown = ", ".join(sorted(repr(k) for k in known)[:12])
                raise PolicyLoadError(
                    path, line, f"policy {policy.policy_id}: {attr} is compared with unknown value {literal!r} (known: {shown})"
                )


def load_bundle(catalog: Catalog, policy_dir: str | Path) -> PolicyBundle:
    """Parse and validate `org_policy.cedar` and `<domain>/policy.cedar` for every catalog domain.

    A domain without a policy file shares nothing (default deny). Raises `PolicyLoadError`.
    """
    root = Path(policy_dir)
    schema = cedar_schema(catalog)
    org_path = root / ORG_POLICY_FILE
    if not org_path.exists():
        raise PolicyLoadError(org_path, 0, "the organisation policy file is missing")
    texts: dict[str, str] = {}
    loaded: dict[str, tuple[SourcePolicy, ...]] = {}
    for scope, path in [(ORG_SCOPE, org_path)] + [(d, root / d / DOMAIN_POLICY_FILE) for d in catalog.domains]:
        if not path.exists():
            loaded[scope] = ()
            continue
        text = path.read_text()
        policies = parse_policy_file(path, scope, text)
        _validate(path, text, policies, schema, vocabulary(catalog, None if scope == ORG_SCOPE else scope))
        if scope == ORG_SCOPE:
            check_required_forbids(path, policies, ORG_SCOPE)
        texts[str(path.relative_to(root))] = text
        loaded[scope] = tuple(policies)
    org = loaded.pop(ORG_SCOPE)
    return PolicyBundle(
        schema_text=schema,
        texts=texts,
        org=org,
        domains=loaded,
        entities_json=json.dumps(column_entities(catalog)),
    )
