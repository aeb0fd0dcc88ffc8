"""One asset per active share, `[consumer, <producer>__<dataset>]`, downstream of the producer's
dataset, built from the contract registry when the location loads.

The definitions are a snapshot of the registry; a run re-reads it, so a share revoked after the
location loaded fails to deliver instead of copying data (the delivery re-checks the contract).
"""

import time
from datetime import timedelta

import dagster as dg

from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.contracts.odcs import share_table_name
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.dagster_layer.factory import privacy_check_result, privacy_check_spec
from hurricane_assets.dagster_layer.keys import domain_key
from hurricane_assets.exchange.run_platform import RunPlatform

SHARES_GROUP = "shares"
JOIN_MATCH_CHECK = "join_match_rate"


def share_key(contract: Contract) -> dg.AssetKey:
    return dg.AssetKey([contract.consumer, share_table_name(contract.terms)])


def contract_metadata(contract: Contract) -> dict:
    terms = contract.terms
    return {
        "hurricane/contract_id": contract.contract_id,
        "hurricane/contract_version": contract.version,
        "hurricane/purpose": terms.purpose,
        "hurricane/environment": terms.environment.value,
        "hurricane/expires_at": contract.expires_at.isoformat(),
        "hurricane/masking": dg.MetadataValue.json({c: m.value for c, m in terms.columns.items()}),
        "hurricane/row_filter": dg.MetadataValue.json(terms.row_filter.model_dump(mode="json")),
        "hurricane/ledger_entry": dg.MetadataValue.json(contract.ledger.model_dump() if contract.ledger else None),
        "dagster/uri": share_uri_for(contract.terms),
    }


def build_share_asset(contract: Contract) -> dg.AssetsDefinition:
    key = share_key(contract)
    consumer, producer, dataset = contract.consumer, contract.producer, contract.dataset
    below_prod = contract.terms.environment.value != "prod"  # masked: its measured privacy is a check

    @dg.asset(
        key=key,
        deps=[domain_key(producer, dataset)],
        description=f"{producer}.{dataset} shared with {consumer} for {contract.terms.purpose}, "
        f"masked per contract, in {contract.terms.environment.value}.",
        kinds={"delta", "share"},
        group_name=SHARES_GROUP,
        owners=[f"team:{consumer}"],
        tags={"hurricane/producer": producer, "hurricane/consumer": consumer},
        metadata=contract_metadata(contract),
        # the contract's refresh promise: the UI flags a copy older than that
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=contract.terms.freshness_hours)),
        # blocking: a share that joins nothing of the consumer's (e.g. tokens from another masking key)
        # must not retrain the model and look merely useless
        check_specs=[dg.AssetCheckSpec(JOIN_MATCH_CHECK, asset=key, blocking=True,
                                       description="the share's join key finds the consumer's rows"),
                     *([privacy_check_spec(key)] if below_prod else [])],
    )
    def _share(context: dg.AssetExecutionContext, exchange: RunPlatform) -> dg.MaterializeResult:
        # imported on use: masking and policy must not slow the location's import
        from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
        from hurricane_assets.delivery.join_match import join_match_rate
        from hurricane_assets.sharing.contracting import active_share

        platform = exchange.platform
        started = time.perf_counter()
        current = active_share(platform.store, consumer, producer, dataset)
        if current is None:
            raise DeliveryRefused(contract.contract_id, f"no active contract for {key.to_user_string()} any more")
        delivery = deliver(current, **platform.delivering)
        seconds = time.perf_counter() - started
        match = join_match_rate(current, platform.catalog, consumer_keys=exchange.consumer_keys,
                                delivered_keys=delivery.join_keys)
        context.log.info(
            f"{'delivered' if delivery.changed else 'unchanged'}: {delivery.rows} rows, columns {', '.join(delivery.columns)}"
        )
        return dg.MaterializeResult(
            # the delivered content: what the consumer's models retrain on (an unchanged delivery keeps it)
            data_version=dg.DataVersion(delivery.content_sha256),
            metadata={
                **contract_metadata(current),
                "dagster/row_count": delivery.rows,
                # the delivery itself (checks, read, filter, mask, write, record), without run overhead
                "hurricane/delivery_seconds": round(seconds, 4),
                "hurricane/changed": delivery.changed,
                "hurricane/content_sha256": delivery.content_sha256,
                "hurricane/table_version": delivery.table_version,
                "hurricane/source_version": delivery.source_version,
                "hurricane/privacy_report": dg.MetadataValue.json(delivery.privacy.to_dict()),
                "hurricane/delivered_entry": dg.MetadataValue.json(delivery.ledger.model_dump() if delivery.ledger else None),
                "hurricane/join_match_rate": float(match.rate),
            },
            check_results=[dg.AssetCheckResult(
                check_name=JOIN_MATCH_CHECK, asset_key=key, passed=match.passed,
                # nothing of the consumer's to match yet warns; a measured mismatch is an error and blocks
                severity=dg.AssetCheckSeverity.ERROR if match.measured else dg.AssetCheckSeverity.WARN,
                description=match.describe(), metadata={"hurricane/join_match": dg.MetadataValue.json(match.to_dict()),
                                                        "hurricane/join_match_rate": float(match.rate)},
            ), *([privacy_check_result(delivery.privacy.to_dict())] if below_prod else [])],
        )

    return _share


def active_contracts(store: ContractStore | None = None) -> list[Contract]:
    store = store or ContractStore()
    return store.list(status=ContractStatus.active)


def build_share_assets(store: ContractStore | None = None) -> list[dg.AssetsDefinition]:
    return [build_share_asset(c) for c in active_contracts(store)]
