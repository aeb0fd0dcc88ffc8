"""The exchange's sensors. Each keeps a JSON cursor of storage ids per watched asset, so every
event is seen once however many arrive between ticks, and each run has a run key, so a sensor
evaluated twice launches nothing twice.

They are also idempotent on content, whoever evaluated them before: the embedded loop (`hurricane
demo`) keeps its cursors apart from the daemon's (`make ui`), so a daemon starting on a fresh cursor
must find from the instance itself that a need was negotiated (its dynamic partition), a share
delivered at this state (a run tagged with it) and a verdict judged (a run with its run key)."""

import hashlib
import json
import os
from collections.abc import Callable, Sequence

import dagster as dg

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.dagster_layer.models import MIN_UPLIFT_KEY, NEED_SPEC_KEY, SHARE_UPLIFT_KEY
from hurricane_assets.exchange.jobs import judge_shares_job
from hurricane_assets.exchange.negotiations import DATA_NEEDS, negotiation_job
from hurricane_assets.exchange.shares import share_key
from hurricane_assets.masking.erasure import register_uri as erasure_register_uri
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import open_table, table_exists
from negotiation_graph.terms import NeedSpec

KeyProvider = Callable[[], Sequence[dg.AssetKey]]
DELIVERY_STATE_TAG = "hurricane/delivery_state/"  # + contract id: the state a delivery run was requested for
SKIPPED_RUN_STATUSES = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
# Under the daemon every hop of the loop (failed check -> need, contract -> delivery, uplift -> verdict)
# waits for the next evaluation: 5 s, the sensor daemon's own loop time, instead of Dagster's default
# 30 s. An evaluation reads cursors, run tags and Delta log heads only (tens of milliseconds).
SENSOR_INTERVAL_SECONDS = 5


def _run_with_tags(instance: dg.DagsterInstance, tags: dict[str, str]) -> bool:
    """A run with these tags exists that did not fail (a failed one may be requested again)."""
    statuses = [s for s in dg.DagsterRunStatus if s not in SKIPPED_RUN_STATUSES]
    return bool(instance.get_run_ids(filters=dg.RunsFilter(tags=tags, statuses=statuses), limit=1))


def _new_materializations(context, keys: Sequence[dg.AssetKey], cursor: dict[str, int]):
    """(key, record) for every materialization after the cursor, oldest first; advances the cursor."""
    for key in keys:
        name = key.to_user_string()
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=cursor.get(name)), limit=100, ascending=True
        ).records
        for record in records:
            cursor[name] = record.storage_id
            yield key, record


def _json_metadata(metadata, key: str):
    value = metadata.get(key)
    if value is None:
        return None
    return value.data if isinstance(value, dg.JsonMetadataValue) else json.loads(value.value)


def build_data_need_sensor(monitor_keys: KeyProvider) -> dg.SensorDefinition:
    @dg.sensor(
        name="data_need_sensor",
        job=negotiation_job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="A monitor that failed emits a data need; each new need starts one negotiation.",
    )
    def data_need_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = json.loads(context.cursor) if context.cursor else {}
        known = set(context.instance.get_dynamic_partitions(DATA_NEEDS.name))
        needs: dict[str, NeedSpec] = {}
        for _, record in _new_materializations(context, monitor_keys(), cursor):
            raw = _json_metadata(record.asset_materialization.metadata, NEED_SPEC_KEY)
            if raw is None:
                continue
            need = NeedSpec.model_validate(raw)
            if need.need_id not in known:
                needs[need.need_id] = need
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=need_id,
                    partition_key=need_id,
                    run_config={"ops": {"exchange__negotiations": {"config": {
                        "need": need.model_dump_json(),
                        "strategy": os.environ.get("HURRICANE_NEGOTIATION_STRATEGY", "rules"),
                        "trial_sample_fraction": float(os.environ.get("HURRICANE_TRIAL_SAMPLE_FRACTION", "0")),
                    }}}},
                    tags={"hurricane/need_id": need_id, "hurricane/consumer": need.consumer},
                )
                for need_id, need in needs.items()
            ],
            dynamic_partitions_requests=[DATA_NEEDS.build_add_request(list(needs))] if needs else [],
            cursor=json.dumps(cursor, sort_keys=True),
        )

    return data_need_sensor


def build_share_delivery_sensor(share_keys: Sequence[dg.AssetKey], job) -> dg.SensorDefinition:
    """Deliver a share when it has never been delivered, its producer's table has a newer Delta
    version (the producer refreshed its data, so the consumer's copy would go stale), or the erasure
    register has a new request (the person must leave every share). Every share due
    in one tick goes into one run; the cursor remembers what each share was last requested for."""

    @dg.sensor(
        name="share_delivery_sensor",
        job=job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Delivers each active share when it is missing or its producer's table changed.",
    )
    def share_delivery_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        requested = json.loads(context.cursor) if context.cursor else {}
        due: dict[str, dg.AssetKey] = {}
        # a new erasure request makes every share due: the erased person must leave them in the next run
        register = erasure_register_uri()
        erasure_state = f"+erasure@{open_table(register).version()}" if table_exists(register) else ""
        listing = ContractStore().scan(status=ContractStatus.active)
        for bad in listing.unreadable:
            context.log.warning(f"not a contract, skipped: {bad}")  # the other shares are still delivered
        for contract in listing.contracts:
            key = share_key(contract)
            if key not in share_keys:
                continue  # signed after this location loaded: delivered after the next reload
            source = hurricane_paths().table_uri("prod", contract.producer, contract.dataset)
            if not table_exists(source):
                continue
            state = f"{contract.version}@{open_table(source).version()}{erasure_state}"
            if requested.get(contract.contract_id) != state:
                requested[contract.contract_id] = state
                # another evaluator (the embedded loop, or this sensor before its cursor was lost) already did
                if _run_with_tags(context.instance, {DELIVERY_STATE_TAG + contract.contract_id: state}):
                    continue
                due[f"{contract.contract_id}:{state}"] = key
        if not due:
            return dg.SkipReason("no active share needs a delivery")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(
                run_key=hashlib.sha256("|".join(sorted(due)).encode()).hexdigest()[:32],
                asset_selection=list(due.values()),
                tags={"hurricane/shares": str(len(due)),
                      **{DELIVERY_STATE_TAG + name.split(":", 1)[0]: name.split(":", 1)[1] for name in due}},
            )],
            cursor=json.dumps(requested, sort_keys=True),
        )

    return share_delivery_sensor


def build_share_judge_sensor(uplift_keys: KeyProvider) -> dg.SensorDefinition:
    @dg.sensor(
        name="share_judge_sensor",
        job=judge_shares_job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After a model's per-share uplift is measured, the consumer judges each share by it.",
    )
    def share_judge_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = json.loads(context.cursor) if context.cursor else {}
        requests = []
        for key, record in _new_materializations(context, uplift_keys(), cursor):
            metadata = record.asset_materialization.metadata
            uplift = _json_metadata(metadata, SHARE_UPLIFT_KEY)
            if not uplift:
                continue
            run_key = f"{key.to_user_string()}:{record.storage_id}"
            if _run_with_tags(context.instance, {"dagster/sensor_name": "share_judge_sensor", "dagster/run_key": run_key}):
                continue  # judged already, by an evaluator with another cursor
            model = metadata["hurricane/model"].value if "hurricane/model" in metadata else key.path[-1]
            requests.append(
                dg.RunRequest(
                    run_key=run_key,
                    run_config={"ops": {"judge_shares": {"config": {
                        "consumer": key.path[0],
                        "model": model,
                        "uplift": json.dumps(uplift, sort_keys=True),
                        "min_uplift": float(metadata[MIN_UPLIFT_KEY].value),
                        "evidence": f"{key.to_user_string()}@{record.storage_id}",
                    }}}},
                    tags={"hurricane/consumer": key.path[0]},
                )
            )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return share_judge_sensor
