"""The forbids the organisation policy must carry. A bundle whose org policy lacks one (deleted,
commented out, turned into a permit) does not load: a missing rule would otherwise be read as
"no rule", and every domain permit would go through unchecked.

These are the invariants the platform promises (purpose and environment from the manifest, no
national id, no raw PII or restricted data below prod, free text redacted below prod, bounded
retention and term); the Cedar text of each may evolve, and its every change is pinned in the
ledger with the bundle hash (`policy/pin.py`).
"""

from __future__ import annotations

from pathlib import Path

from hurricane_assets.policy.source import PolicyLoadError, SourcePolicy

REQUIRED_ORG_FORBIDS: tuple[str, ...] = (
    "purpose-must-be-allowed-by-manifest",
    "environment-must-be-allowed-by-manifest",
    "national-id-never-shared",
    "restricted-never-leaves-prod-unmasked",
    "free-text-below-prod-only-redacted",
    "pii-never-unmasked-below-prod",
    "retention-at-most-a-year",
    "term-at-most-a-year",
)


def check_required_forbids(path: Path, policies: list[SourcePolicy], scope: str) -> None:
    forbids = {p.policy_id.removeprefix(f"{scope}/") for p in policies if p.effect == "forbid"}
    missing = [name for name in REQUIRED_ORG_FORBIDS if name not in forbids]
    if missing:
        raise PolicyLoadError(
            path, 0, f"the organisation policy lacks required forbid(s): {', '.join(missing)} "
            f"(each must be a forbid with @id(\"<name>\"))"
        )
