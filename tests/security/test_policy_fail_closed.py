"""The policy fails closed: a rule that cannot be evaluated denies, the org policy must carry its
forbids, and every bundle the platform decides with is pinned in the ledger.

The insider here edits policy files under `domains/` (a copy, so the shipped files stay as they
are); before, a forbid that errored let the request through and a comment-only org policy loaded.
"""

from __future__ import annotations

import json
import shutil

import pytest

from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.policy import CedarPolicyGate, PolicyLoadError
from hurricane_assets.policy.gate import EVALUATION_ERROR
from hurricane_assets.policy.required import REQUIRED_ORG_FORBIDS
from tests.hurricane_assets.share_terms import fraud_terms
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    DELIVERY,
    LIFECYCLE,
    prod_template,
    share_catalog,
    share_gate,
    share_parts,
    share_prod_tables,
    signed,
)

# Valid for the schema (Long * Long); false for a one-day retention, an overflow error for more.
# Cedar skips a policy that errors, so before, this forbid simply vanished and the share went through.
OVERFLOWING_FORBID = (
    '\n@id("no-long-retention-overflowing")\n@reason("retention_too_long")\n'
    'forbid (principal, action == Action::"share", resource)\n'
    'when { context.retention_days * 9223372036854775807 < 0 };\n'
)


def policy_copy(tmp_path):
    root = tmp_path / "policies"
    shutil.copytree(default_domains_dir(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def test_a_forbid_that_errors_at_run_time_denies_with_its_own_reason(share_catalog, tmp_path):
    root = policy_copy(tmp_path)
    payments = root / "payments" / "policy.cedar"
    payments.write_text(payments.read_text() + OVERFLOWING_FORBID)
    gate = CedarPolicyGate(share_catalog, policy_dir=root)  # it loads: the schema check passes
    decision = gate.evaluate(fraud_terms())
    assert not decision.allowed
    assert {d.reasons for d in decision.columns.values()} == {(EVALUATION_ERROR,)}
    # the same rule on a one-day retention does not overflow, and the share is allowed
    assert gate.evaluate(fraud_terms(retention_days=1)).allowed
    assert gate.feasible_masking(fraud_terms(), "channel") is None  # probes fail closed too


def test_an_escalation_rule_that_errors_denies(share_catalog, tmp_path):
    root = policy_copy(tmp_path)
    payments = root / "payments" / "policy.cedar"
    payments.write_text(payments.read_text() + (
        '\n@id("long-retention-needs-a-human")\n@requires_human\n'
        'permit (principal, action == Action::"share", resource)\n'
        'when { context.retention_days * 9223372036854775807 > 0 };\n'))
    decision = CedarPolicyGate(share_catalog, policy_dir=root).evaluate(fraud_terms())
    assert not decision.allowed and EVALUATION_ERROR in decision.reasons


def test_a_comment_only_org_policy_does_not_load(share_catalog, tmp_path):
    root = policy_copy(tmp_path)
    org = root / "org_policy.cedar"
    org.write_text("\n".join("// " + line for line in org.read_text().splitlines()) + "\n")
    with pytest.raises(PolicyLoadError) as caught:
        CedarPolicyGate(share_catalog, policy_dir=root)
    message = str(caught.value)
    assert message.startswith(f"{org}:") and "lacks required forbid(s)" in message
    assert all(name in message for name in REQUIRED_ORG_FORBIDS)


def test_an_org_policy_missing_one_forbid_names_it(share_catalog, tmp_path):
    root = policy_copy(tmp_path)
    org = root / "org_policy.cedar"
    text = org.read_text()
    start = text.index('@id("pii-never-unmasked-below-prod")')
    end = text.index(";", start) + 1
    org.write_text(text[:start] + text[end:])
    with pytest.raises(PolicyLoadError, match=r"org_policy\.cedar:0: .*lacks required forbid\(s\): pii-never-unmasked-below-prod"):
        CedarPolicyGate(share_catalog, policy_dir=root)
    # turning it into a permit is not keeping it
    org.write_text(text.replace('@id("pii-never-unmasked-below-prod")\n@reason("masking_too_weak")\nforbid',
                                '@id("pii-never-unmasked-below-prod")\n@reason("masking_too_weak")\npermit'))
    with pytest.raises(PolicyLoadError, match="pii-never-unmasked-below-prod"):
        CedarPolicyGate(share_catalog, policy_dir=root)


def test_a_missing_org_policy_does_not_load(share_catalog, tmp_path):
    root = policy_copy(tmp_path)
    (root / "org_policy.cedar").unlink()
    with pytest.raises(PolicyLoadError, match="org_policy.cedar:0: the organisation policy file is missing"):
        CedarPolicyGate(share_catalog, policy_dir=root)


def test_every_bundle_decided_with_is_pinned_in_the_ledger_and_recorded_with_each_decision(
        share_parts, share_prod_tables, tmp_path):
    contract = signed(share_parts)
    first = share_parts["gate"].bundle_sha256
    # an org policy change (here a harmless extra comment) is a new bundle
    root = policy_copy(tmp_path)
    org = root / "org_policy.cedar"
    org.write_text(org.read_text() + "\n// reviewed 2026-11\n")
    changed = CedarPolicyGate(share_parts["catalog"], policy_dir=root)
    assert changed.bundle_sha256 != first
    delivery = deliver(contract, **{**{k: share_parts[k] for k in DELIVERY}, "gate": changed})
    rows = share_parts["ledger"].read(["entry_type", "payload_json"]).to_pylist()
    pins = [json.loads(r["payload_json"]) for r in rows if r["entry_type"] == "POLICY_CHANGED"]
    assert [p["bundle_sha256"] for p in pins] == [first, changed.bundle_sha256]
    assert pins[1]["previous_bundle_sha256"] == first
    assert pins[1]["files"]["org_policy.cedar"] != pins[0]["files"]["org_policy.cedar"]
    assert pins[1]["files"]["payments/policy.cedar"] == pins[0]["files"]["payments/policy.cedar"]
    types = [r["entry_type"] for r in rows]
    assert types.index("POLICY_CHANGED", 1) < types.index("DELIVERED")  # pinned before it is used
    signed_entry = json.loads(next(r["payload_json"] for r in rows if r["entry_type"] == "CONTRACT_SIGNED"))
    delivered_entry = json.loads(next(r["payload_json"] for r in rows if r["entry_type"] == "DELIVERED"))
    assert signed_entry["policy_bundle_sha256"] == first
    assert delivered_entry["policy_bundle_sha256"] == changed.bundle_sha256 and delivery.rows > 0
    # back to the first bundle: pinned again (A → B → A is two changes, not one)
    deliver(contract, **{k: share_parts[k] for k in DELIVERY})
    pins = [json.loads(r["payload_json"])["bundle_sha256"] for r in share_parts["ledger"].read(["entry_type", "payload_json"]).to_pylist()
            if r["entry_type"] == "POLICY_CHANGED"]
    assert pins == [first, changed.bundle_sha256, first]
