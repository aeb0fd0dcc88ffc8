"""Policy as code (Cedar): the org policy and each domain's policy decide every column of a share."""

from hurricane_assets.policy.bundle import PolicyBundle, load_bundle
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.policy.model import cedar_schema
from hurricane_assets.policy.source import PolicyLoadError

__all__ = ["CedarPolicyGate", "PolicyBundle", "PolicyLoadError", "cedar_schema", "load_bundle"]
