"""Human approval: approvers as registered keys, approvals as signed envelopes recorded in the ledger."""

from hurricane_assets.approval.approval import (
    APPROVAL_REQUIRED,
    ApprovalError,
    approval_for_contract,
    negotiation_approval,
    negotiation_approval_payload,
    record_approval,
    renewal_approval,
    renewal_approval_payload,
    renewal_needs_approval,
    sign_approval,
    verify_approval,
)
from hurricane_assets.approval.approvers import Approver, ApproverError, add_approver, registered_approvers

__all__ = [
    "APPROVAL_REQUIRED",
    "ApprovalError",
    "Approver",
    "ApproverError",
    "add_approver",
    "approval_for_contract",
    "negotiation_approval_payload",
    "negotiation_approval",
    "record_approval",
    "registered_approvers",
    "renewal_approval",
    "renewal_approval_payload",
    "renewal_needs_approval",
    "sign_approval",
    "verify_approval",
]
