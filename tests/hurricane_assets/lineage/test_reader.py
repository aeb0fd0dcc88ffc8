from datetime import timedelta

from hurricane_assets.clock import NOW_VARIABLE
from hurricane_assets.contracts import Contract, ContractStatus, LedgerRef
from hurricane_assets.lineage import CONTRACT_FACET_KEY, LineageEmitter
from hurricane_assets.lineage.reader import contract_events, read_events
from negotiation_graph.terms import ShareTerms

TERMS = ShareTerms(
    producer="support", consumer="risk", dataset="tickets", columns={"customer_id": "tokenize", "category": "tokenize"},
    purpose="fraud_detection", environment="preprod", freshness_hours=24, retention_days=90, term_days=90,
)


def _contract(negotiation_id: str, now) -> Contract:
    return Contract.propose(TERMS, negotiation_id=negotiation_id, policy_bundle_sha256="a" * 64, now=now).model_copy(
        update={"ledger": LedgerRef(seq=3, entry_hash="b" * 64)})


def _deliver(emitter: LineageEmitter, contract: Contract) -> None:
    run_id, _ = emitter.delivery_started(contract, source_version=1)
    emitter.delivery_completed(run_id, contract, delta_version=0, source_version=1)


def test_a_drop_belongs_to_the_contract_that_ended_not_to_the_next_one_on_the_same_share(pinned_clock, monkeypatch):
    """The share's path serves successive contracts: the first one's revocation drops the copy, a new
    contract delivers to the same path; `lineage show` of either must show only its own drop."""
    emitter = LineageEmitter()
    first = _contract("neg-1", pinned_clock)
    _deliver(emitter, first)
    dropped = emitter.copy_dropped(first.model_copy(update={"status": ContractStatus.revoked})).to_json()
    later = pinned_clock + timedelta(hours=1)
    monkeypatch.setenv(NOW_VARIABLE, later.isoformat())
    second = _contract("neg-2", later)
    assert second.share_uri == first.share_uri
    _deliver(emitter, second)

    events = read_events()
    assert not [e for e in contract_events(second, events) if "dataset" in e]  # the new share was not dropped
    assert dropped in contract_events(first, events)
    facet = dropped["dataset"]["facets"][CONTRACT_FACET_KEY]
    assert (facet["contractId"], facet["endedAs"]) == (first.contract_id, "revoked")
    assert facet["_producer"] == dropped["producer"] and facet["_schemaURL"].endswith("DataHurricaneContractDatasetFacet.json")
    # and once the second one ends, its drop is not the first one's
    emitter.copy_dropped(second.model_copy(update={"status": ContractStatus.expired}))
    events = read_events()
    assert [e for e in contract_events(first, events) if "dataset" in e] == [dropped]
    assert len([e for e in contract_events(second, events) if "dataset" in e]) == 1


def test_a_drop_written_without_the_contract_facet_counts_by_path_from_the_signature_on(pinned_clock, monkeypatch):
    emitter = LineageEmitter()
    first = _contract("neg-1", pinned_clock)
    _deliver(emitter, first)
    legacy = emitter.copy_dropped(first).to_json()
    legacy["dataset"]["facets"].pop(CONTRACT_FACET_KEY, None)
    later = pinned_clock + timedelta(hours=1)
    second = _contract("neg-2", later)
    assert legacy in contract_events(first, [legacy])
    assert contract_events(second, [legacy]) == []
