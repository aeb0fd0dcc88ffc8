"""Dagster assets for a consumer domain's models: `[domain, model]` and `[domain, <model>_monitor]`.

The model trains on the domain's own training-environment copies plus the active shares of its
purpose the caller passes in (`shares_for(domain, purpose)`, a snapshot taken when the location
loads, like the exchange's share assets), and retrains by declarative automation when one of those
shares is delivered with new content or the set of shares changes (one revoked or expired); a
refresh of the domain's own data does not retrain it, so the monitor can see the drift that data
brings. The monitor reruns whenever the model or the data changes; its two checks are non-blocking
ERRORs and, when one fails, the data need rides along in the metadata for the exchange's sensor.

A model fed by shares retrains once (own data plus every share) and serves; `[domain,
<model>_share_uplift]`, downstream of it in its own run, fits the per-share ablation the exchange's
judge keeps or revokes each share by, off the failed-check -> retrained-model path.

The pure core (`hurricane_assets.models`, `hurricane_assets.monitoring`) is imported inside the
asset functions: scikit-learn and Evidently must not slow the code location's import.
"""


import hashlib
import json
import time
from collections.abc import Callable, Sequence

import dagster as dg

from hurricane_assets.catalog import load_catalog
from hurricane_assets.dagster_layer.keys import copy_key, domain_key
from hurricane_assets.models.sources import ShareInput
from hurricane_assets.models.spec import ModelSpec, load_model_specs

ShareProvider = Callable[[str, str], Sequence[ShareInput]]  # (domain, purpose) -> shares
NO_DRIFT_CHECK = "no_data_drift"
PERFORMANCE_CHECK = "performance_within_bounds"
DATA_NEED_KEY = "hurricane/data_need"
NEED_SPEC_KEY = "hurricane/need_spec"  # what the exchange's data-need sensor reads
NO_DATA_NEED_KEY = "hurricane/no_data_need"  # why a failed monitor raised no need
STALE_MODEL_KEY = "hurricane/stale_model"  # why a monitor could not score its model (a share it reads ended)
SHARE_UPLIFT_KEY = "hurricane/share_uplift"  # contract id -> confident uplift, on `<model>_share_uplift`, read by the share judge
MIN_UPLIFT_KEY = "hurricane/min_uplift"
MASKING_UTILITY_KEY = "hurricane/share_masking_utility"  # contract id -> AUC masked vs unmasked, ratio, target
AUTOMATION_INTERVAL_SECONDS = 10  # the asset daemon evaluates a domain's model conditions at most this often
ERASURE_RETRAIN_INTERVAL_SECONDS = 60  # how often a domain looks for models that learned from an erased person


def no_shares(domain: str, purpose: str) -> list[ShareInput]:
    return []


def active_shares(domain: str, purpose: str) -> list[ShareInput]:
    """The domain's active contracts for `purpose` in the registry, as model inputs (a snapshot at
    load time). Joined on the finest entity the domain's models have in common with the share. A
    model reads only shares agreed for its own purpose: a share the domain requested for another
    (customer analytics, say) must not train a fraud model, nor be judged by it."""
    from hurricane_assets.contracts.contract import ContractStatus
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.models.sources import join_entities, share_from_contract

    catalog = load_catalog()
    specs = load_model_specs(domain, catalog=catalog).values()
    entities = list(dict.fromkeys(e for spec in specs for e in join_entities(spec, catalog)))
    contracts = [c for c in ContractStore().list(status=ContractStatus.active)
                 if c.consumer == domain and c.terms.purpose == purpose]
    return [share_from_contract(c, catalog, entities) for c in sorted(contracts, key=lambda c: c.contract_id)]


def model_key(spec: ModelSpec) -> dg.AssetKey:
    return domain_key(spec.domain, spec.name)


def monitor_key(spec: ModelSpec) -> dg.AssetKey:
    return domain_key(spec.domain, f"{spec.name}_monitor")


SHARE_UPLIFT_SUFFIX = "_share_uplift"


def share_uplift_key(spec: ModelSpec) -> dg.AssetKey:
    """The per-share ablation of a model fed by shares: what the exchange's share judge reads."""
    return domain_key(spec.domain, f"{spec.name}{SHARE_UPLIFT_SUFFIX}")


def share_key(consumer: str, share: ShareInput) -> dg.AssetKey:
    """The delivered share's asset in the consumer's namespace, as the exchange names it."""
    return domain_key(consumer, share.prefix)


def own_data_keys(spec: ModelSpec) -> list[dg.AssetKey]:
    env = spec.training.environment
    return [domain_key(spec.domain, d) if env == "prod" else copy_key(spec.domain, d, env) for d in spec.datasets]


# What a stored version must hold (2: manifest.json with the model file's digest, the reference's person
# digests; 3: the model in skops' format, never a pickle). Part of every model's code version, so a
# deploy that raises it retrains each model once:
# a version stored before would be refused at load, and its reference dropped at the next erasure.
STORE_FORMAT = "store-3"


def shares_version(shares: Sequence[ShareInput]) -> str:
    """The model's code version: the store format and which shares it reads. A share revoked or expired
    changes it when the location reloads, and the model retrains without that share (nothing is
    delivered to trigger it)."""
    ids = sorted(s.contract_id for s in shares)
    reads = "shares-" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:16] if ids else "own-data"
    return f"{STORE_FORMAT}/{reads}"


def retrain_condition(share_keys: list[dg.AssetKey]) -> dg.AutomationCondition:
    """`eager()`, but only a share's update (or a missing model) retrains it, not the own data."""
    # a share's data version is its delivered content's hash: a delivery that changed nothing retrains nothing
    from_shares = dg.AutomationCondition.any_deps_match(
        dg.AutomationCondition.data_version_changed()).allow(dg.AssetSelection.keys(*share_keys))
    return dg.AutomationCondition.eager().replace(
        "any_deps_updated", from_shares | dg.AutomationCondition.code_version_changed()
    ).with_label("retrain_on_share_delivery_or_end")


def _train_metadata(spec: ModelSpec, trained) -> dict:
    metrics = trained.metrics
    return {
        "hurricane/model": spec.name,
        "hurricane/auc": float(metrics.holdout.roc_auc),
        "hurricane/precision_at_k": float(metrics.holdout.precision_at_k),
        "hurricane/k": float(metrics.holdout.k),
        "hurricane/base_rate": float(metrics.holdout.base_rate),
        "hurricane/train_rows": float(metrics.train_rows),
        "hurricane/holdout_rows": float(metrics.holdout.rows),
        "hurricane/features": dg.MetadataValue.json(list(metrics.features)),
        "hurricane/shares": dg.MetadataValue.json(list(metrics.shares)),
        MIN_UPLIFT_KEY: float(spec.thresholds.min_uplift),
    }


def _uplift_metadata(spec: ModelSpec, uplift) -> dict:
    return {
        **_train_metadata(spec, uplift.with_shares),
        "hurricane/auc_without_shares": float(uplift.without_shares.metrics.holdout.roc_auc),
        "hurricane/uplift": float(uplift.uplift),
        # the confident uplift (lower confidence bound), so the judge keeps exactly what `ShareUplift.keep` keeps
        SHARE_UPLIFT_KEY: dg.MetadataValue.json({cid: float(u.confident_uplift) for cid, u in uplift.per_share.items()}),
        "hurricane/share_uplift_detail": dg.MetadataValue.json({cid: u.model_dump() for cid, u in uplift.per_share.items()}),
    }


def _utility_metadata(utility: dict) -> dict:
    if not utility:
        return {}
    return {
        MASKING_UTILITY_KEY: dg.MetadataValue.json({cid: u.model_dump(mode="json") for cid, u in utility.items()}),
        "hurricane/masking_auc_ratio_min": float(min(u.ratio for u in utility.values())),
    }


def build_model_asset(spec: ModelSpec, shares: Sequence[ShareInput]) -> dg.AssetsDefinition:
    shares = tuple(shares)
    share_keys = [share_key(spec.domain, s) for s in shares]

    @dg.asset(
        key=model_key(spec),
        deps=[*own_data_keys(spec), *share_keys],
        description=f"{spec.description} Trained on {spec.domain}'s {spec.training.environment} data"
        + (f" plus {len(shares)} share(s)." if shares else "."),
        kinds={"scikit-learn"},
        group_name=f"{spec.domain}_models",
        tags={"hurricane/domain": spec.domain, "hurricane/purpose": spec.purpose},
        metadata={"hurricane/shares": dg.MetadataValue.json([s.contract_id for s in shares])},
        code_version=shares_version(shares),
        automation_condition=retrain_condition(share_keys),
    )
    def _model(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from hurricane_assets.models.store import forget_ended_shares, save_model
        from hurricane_assets.models.training import train_model

        # one fit on the own data plus every share, then it serves: the per-share ablation that decides
        # keep or revoke is the `<model>_share_uplift` asset's own run, off this path
        trained = train_model(spec, shares)
        started = time.perf_counter()
        stored = save_model(trained)
        forgotten = forget_ended_shares(spec.domain, spec.name, {s.contract_id for s in shares})
        # older versions may hold a person erased since they were stored, and one erased while this fit
        # ran is in the version just stored: the register reaches them now (and asks for a retrain)
        erased = _apply_register(spec)
        # where the retrain's time went (read, features, fit, score, store): bench/time_to_data.py reports it
        seconds = {**trained.seconds, "store": time.perf_counter() - started}
        context.log.info(f"{spec.domain}.{spec.name} {stored.version}: holdout ROC AUC {trained.metrics.holdout.roc_auc:.4f}")
        if forgotten:
            context.log.info(f"features of ended shares dropped from older versions: {forgotten}")
        return dg.MaterializeResult(metadata={"hurricane/version": stored.version, "dagster/uri": str(stored.path),
                                              "hurricane/forgotten_share_features": dg.MetadataValue.json(forgotten),
                                              "hurricane/erasure_model_references": dg.MetadataValue.json(
                                                  erased.to_dict()),
                                              "hurricane/erased_training_rows": trained.erased_rows,
                                              **_train_metadata(spec, trained),
                                              "hurricane/train_seconds": dg.MetadataValue.json(
                                                  {k: round(v, 3) for k, v in seconds.items()})})

    return _model


def build_share_uplift_asset(spec: ModelSpec, shares: Sequence[ShareInput]) -> dg.AssetsDefinition:
    """The per-share ablation of a model fed by shares, in its own run after the model serves: the
    model with every share, without any, and per share alone and all-but-one (2 + 2·n fits on the
    same holdout), plus what masking cost each share. The exchange's share judge reads its
    `hurricane/share_uplift` (the 95 % lower bounds) and keeps a share only if it reaches `min_uplift`."""
    shares = tuple(shares)
    key = share_uplift_key(spec)

    @dg.asset(
        key=key,
        deps=[model_key(spec)],
        description=f"Per-share uplift of {spec.domain}.{spec.name}: each share's ROC AUC gain (95 % lower bound) "
        f"on the model's holdout, and what masking cost it; the exchange keeps a share only if it reaches "
        f"{spec.thresholds.min_uplift}.",
        kinds={"scikit-learn"},
        group_name=f"{spec.domain}_models",
        tags={"hurricane/domain": spec.domain, "hurricane/purpose": spec.purpose},
        metadata={"hurricane/shares": dg.MetadataValue.json([s.contract_id for s in shares])},
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _share_uplift(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from hurricane_assets.models.training import train_with_and_without
        from hurricane_assets.models.utility import share_utilities

        uplift = train_with_and_without(spec, shares)
        # what masking cost: AUC on each share masked vs the same rows unmasked (in memory only)
        utility = share_utilities(spec, shares)
        for cid, u in uplift.per_share.items():
            context.log.info(f"{spec.domain}.{spec.name} share {cid}: confident uplift {u.confident_uplift:+.4f}")
        return dg.MaterializeResult(metadata={**_uplift_metadata(spec, uplift), **_utility_metadata(utility)})

    return _share_uplift


def _apply_register(spec: ModelSpec):
    from hurricane_assets.masking.erasure import load_erasures
    from hurricane_assets.masking.keys import Keyring
    from hurricane_assets.models.erasure import erase_from_models

    return erase_from_models(spec.domain, Keyring.load(spec.training.environment), load_erasures(),
                             catalog=load_catalog())


def build_monitor_asset(spec: ModelSpec, shares: Sequence[ShareInput] = ()) -> dg.AssetsDefinition:
    key = monitor_key(spec)
    active = frozenset(s.contract_id for s in shares)
    checks = [
        dg.AssetCheckSpec(NO_DRIFT_CHECK, asset=key, blocking=False,
                          description=f"fewer than {spec.thresholds.drift_share:.0%} of the features drifted"),
        dg.AssetCheckSpec(PERFORMANCE_CHECK, asset=key, blocking=False,
                          description=f"ROC AUC within {spec.thresholds.auc_drop} of the training baseline"),
    ]

    @dg.asset(
        key=key,
        deps=[model_key(spec), *own_data_keys(spec)],
        description=f"Monitor of {spec.domain}.{spec.name}: Evidently drift and live ROC AUC over the last "
        f"{spec.monitor.window_days} days against the training window.",
        kinds={"evidently"},
        group_name=f"{spec.domain}_models",
        tags={"hurricane/domain": spec.domain, "hurricane/purpose": spec.purpose},
        check_specs=checks,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def _monitor(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        from hurricane_assets.monitoring.monitor import StaleModel, run_monitor
        from hurricane_assets.monitoring.need import NeedError, build_data_need

        if spec.training.environment == "prod":
            # no masked copy applies the erasure register to a store of models trained in prod: the
            # monitor does, before it reads the reference (and a version that learnt from an erased
            # person is marked for the domain's erasure-retrain sensor)
            erased = _apply_register(spec)
            if erased.rows_removed or erased.dropped or erased.retrain:
                context.log.info(f"erasure register applied to {spec.domain}'s prod-trained models: {erased.to_dict()}")
        try:
            result = run_monitor(spec, active_shares=active)
        except StaleModel as exc:
            return _stale_monitor_result(key, str(exc), context)
        numbers = {f"hurricane/{name}": value for name, value in result.numbers().items()}
        drifted = {f.feature: round(f.score, 4) for f in result.drifted_features}
        metadata = {
            **numbers,
            "hurricane/monitor_id": result.monitor_id,
            "hurricane/model_version": result.model_version,
            "hurricane/drift_scores": dg.MetadataValue.json({f.feature: f.score for f in result.features}),
            "hurricane/drifted_features": dg.MetadataValue.json(drifted),
            "hurricane/report": dg.MetadataValue.path(result.report_path),
        }
        if not result.passed:
            try:
                need = build_data_need(result, spec)
            except NeedError as exc:
                # Degraded with nothing left to ask for (every joinable column already shared, say):
                # the failed checks are the news, and no negotiation can help, so none is started.
                metadata[NO_DATA_NEED_KEY] = str(exc)
                context.log.warning(f"{spec.domain}.{spec.name}: monitor failed, no data need: {exc}")
            else:
                metadata[DATA_NEED_KEY] = dg.MetadataValue.json(json.loads(need.model_dump_json()))
                metadata[NEED_SPEC_KEY] = dg.MetadataValue.json(json.loads(need.to_need_spec().model_dump_json()))
                metadata["hurricane/prompt"] = dg.MetadataValue.md(need.prompt)
                context.log.warning(f"{spec.domain}.{spec.name}: data need {need.need_id}")
        check_meta = {"hurricane/report": dg.MetadataValue.path(result.report_path),
                      **{k: metadata[k] for k in (DATA_NEED_KEY, NO_DATA_NEED_KEY) if k in metadata}}
        return dg.MaterializeResult(
            metadata=metadata,
            check_results=[
                dg.AssetCheckResult(
                    check_name=NO_DRIFT_CHECK, asset_key=key, passed=result.drift_passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=f"{len(drifted)} of {len(result.features)} features drifted (share {result.drift_share:.2f})",
                    metadata={"hurricane/drift_share": float(result.drift_share),
                              "hurricane/drifted_features": dg.MetadataValue.json(drifted), **check_meta},
                ),
                dg.AssetCheckResult(
                    check_name=PERFORMANCE_CHECK, asset_key=key, passed=result.performance_passed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=f"ROC AUC {result.auc_current:.3f} vs baseline {result.auc_baseline:.3f} "
                    f"(drop {result.auc_drop:.3f}, limit {spec.thresholds.auc_drop})",
                    metadata={"hurricane/auc_baseline": float(result.auc_baseline),
                              "hurricane/auc_current": float(result.auc_current),
                              "hurricane/auc_drop": float(result.auc_drop), **check_meta},
                ),
            ],
        )

    return _monitor


def _stale_monitor_result(key: dg.AssetKey, reason: str, context) -> dg.MaterializeResult:
    """Not measured, and said so: both checks warn with the reason until the model has retrained."""
    context.log.warning(reason)
    return dg.MaterializeResult(
        metadata={STALE_MODEL_KEY: reason},
        check_results=[dg.AssetCheckResult(check_name=name, asset_key=key, passed=False,
                                           severity=dg.AssetCheckSeverity.WARN, description=f"not measured: {reason}",
                                           metadata={STALE_MODEL_KEY: reason})
                       for name in (NO_DRIFT_CHECK, PERFORMANCE_CHECK)],
    )


def build_model_definitions(domain: str, shares_for: ShareProvider = no_shares) -> tuple[list, list]:
    """(assets, sensors) for every model a domain's `models.yaml` declares; nothing when it has none."""
    specs = load_model_specs(domain, catalog=load_catalog())
    if not specs:
        return [], []
    assets = []
    for spec in specs.values():
        shares = list(shares_for(domain, spec.purpose))
        assets += [build_model_asset(spec, shares), build_monitor_asset(spec, shares)]
        assets += [build_share_uplift_asset(spec, shares)] if shares else []
    sensor = dg.AutomationConditionSensorDefinition(
        f"{domain}_models_automation",
        target=dg.AssetSelection.groups(f"{domain}_models"),
        default_status=dg.DefaultSensorStatus.RUNNING,
        run_tags={"hurricane/domain": domain},
        # a delivered share waits for this evaluation before the retrain (Dagster's default is 30 s)
        minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
        description=f"Retrains {domain}'s models when a share is delivered and reruns their monitors.",
    )
    return assets, [sensor, build_erasure_retrain_sensor(domain, list(specs.values()))]


def build_erasure_retrain_sensor(domain: str, specs: Sequence[ModelSpec]) -> dg.SensorDefinition:
    """Retrains a model whose current version learned from a person erased since: the erasure that
    found their rows in its reference asked for it (`store.request_retrain`), and the retrain leaves
    them out. One run per request (the run key), so a failed retrain is re-run by hand, not in a loop."""
    keys = {spec.name: model_key(spec) for spec in specs}

    @dg.sensor(
        name=f"{domain}_models_erasure_retrain",
        asset_selection=dg.AssetSelection.keys(*keys.values()),
        minimum_interval_seconds=ERASURE_RETRAIN_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Retrains {domain}'s models whose current version learned from a person erased since.",
    )
    def _erasure_retrain(context: dg.SensorEvaluationContext):
        from hurricane_assets.models.store import pending_retrain

        requests = []
        for name, key in keys.items():
            try:  # one model's unreadable store must not hide another's request
                pending = pending_retrain(domain, name)
            except Exception as exc:  # noqa: BLE001
                context.log.error(f"{domain}.{name}: its retrain request could not be read: {type(exc).__name__}: {exc}")
                continue
            if pending is not None:
                context.log.info(f"{domain}.{name} {pending['version']}: {pending['reason']}")
                requests.append(dg.RunRequest(run_key=f"erasure-retrain-{name}-{pending['key']}", asset_selection=[key],
                                              tags={"hurricane/domain": domain, "hurricane/retrain": "erasure"}))
        return requests or dg.SkipReason("no current model learned from an erased person")

    return _erasure_retrain
