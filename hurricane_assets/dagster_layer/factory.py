"""One factory turns a domain's manifest plus a generator function into its Dagster assets.

Every domain asset gets the same treatment from here: `[domain, dataset]` key, owners, kinds,
column schema, freshness policy, the dataset checks, and masked copies for the lower environments
the manifest allows. A new domain is a manifest, a policy and a few lines.
"""


from collections.abc import Callable
from datetime import timedelta

import dagster as dg
import pandas as pd

from hurricane_assets.catalog.manifest import DataProduct, Dataset
from hurricane_assets.catalog.quality import BLOCKING_CHECKS, DATASET_CHECKS, evaluate_dataset_checks
from hurricane_assets.dagster_layer.keys import copy_key, domain_key
from hurricane_assets.dagster_layer.resources import SyntheticSource
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table

GenerateFn = Callable[[SyntheticSource, str], pd.DataFrame]
LOWER_ENVIRONMENTS = ("preprod", "dev")


def table_schema(dataset: Dataset) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=name,
                type=col.type,
                description=col.description,
                constraints=dg.TableColumnConstraints(
                    nullable=col.nullable, unique=(dataset.keys == (name,))
                ),
                tags={"classification": col.classification.value, **({"pii": col.pii.value} if col.pii else {})},
            )
            for name, col in dataset.columns.items()
        ]
    )


def freshness_policy(dataset: Dataset) -> dg.FreshnessPolicy:
    sla = dataset.freshness
    warn = sla.materialize_every_hours if sla.materialize_every_hours < sla.max_lag_hours else None
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=sla.max_lag_hours),
        warn_window=timedelta(hours=warn) if warn else None,
    )


def _common_spec_args(product: DataProduct, name: str, dataset: Dataset) -> dict:
    most_sensitive = max(dataset.columns.values(), key=lambda c: c.classification.rank).classification
    return dict(
        owners=[product.owner],
        group_name=product.domain,
        tags={"hurricane/domain": product.domain, "hurricane/classification": most_sensitive.value},
    )


def build_prod_asset(product: DataProduct, name: str, dataset: Dataset, generate: GenerateFn) -> dg.AssetsDefinition:
    domain = product.domain
    uri = hurricane_paths().table_uri("prod", domain, name)
    schema = table_schema(dataset)

    @dg.asset(
        key=domain_key(domain, name),
        description=dataset.description,
        kinds={"delta", "pandas"},
        io_manager_key="delta_io",
        freshness_policy=freshness_policy(dataset),
        metadata={
            "dagster/column_schema": schema,
            "dagster/uri": uri,
            "hurricane/entity": dataset.entity,
            "hurricane/keys": list(dataset.keys),
            "hurricane/allowed_purposes": list(dataset.allowed_purposes),
        },
        **_common_spec_args(product, name, dataset),
    )
    def _prod_dataset(context: dg.AssetExecutionContext, synthetic: SyntheticSource) -> dg.Output[pd.DataFrame]:
        frame = generate(synthetic, name)
        return dg.Output(
            frame,
            metadata={
                "dagster/row_count": len(frame),
                "dagster/column_schema": schema,
                "dagster/uri": uri,
                "hurricane/drift_days": synthetic.drift_days if synthetic.drift_days is not None else "none",
            },
        )

    return _prod_dataset


def build_dataset_checks(product: DataProduct, name: str, dataset: Dataset, env: str = "prod") -> dg.AssetChecksDefinition:
    """All dataset checks in one op, reading the Delta table once (a checks-only run works too)."""
    key = domain_key(product.domain, name) if env == "prod" else copy_key(product.domain, name, env)
    specs = [
        dg.AssetCheckSpec(check, asset=key, blocking=check in BLOCKING_CHECKS, description=check.replace("_", " "))
        for check in DATASET_CHECKS
    ]

    @dg.multi_asset_check(specs=specs, name=f"{product.domain}__{key.path[-1]}__checks")
    def _checks(context: dg.AssetCheckExecutionContext):
        uri = hurricane_paths().table_uri(env, product.domain, name)
        table = read_table(uri)
        for outcome in evaluate_dataset_checks(dataset, table):
            severity = dg.AssetCheckSeverity.ERROR if outcome.name in BLOCKING_CHECKS else dg.AssetCheckSeverity.WARN
            yield dg.AssetCheckResult(
                check_name=outcome.name,
                asset_key=key,
                passed=outcome.passed,
                severity=severity,
                description=outcome.description,
                metadata={k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v for k, v in outcome.metadata.items()},
            )

    return _checks


PRIVACY_CHECK = "privacy_measured"
PRIVACY_MEASURES = ("k", "l_diversity", "singling_out_risk", "linkability_risk", "inference_risk",
                    "two_event_singling_out_risk")


def privacy_check_spec(key: dg.AssetKey) -> dg.AssetCheckSpec:
    """Measured privacy of a masked copy or share (`masking/measure.py`), thresholds from the manifest.
    A measurement that misses its threshold stops the copy before it is written, so this reports what
    the written table measured; it blocks downstream runs like the data checks do. One check for the
    five measures: they come from one sample and block together, and every check costs each run three
    event-log writes (planned, output, evaluation)."""
    return dg.AssetCheckSpec(PRIVACY_CHECK, asset=key, blocking=True,
                             description="measured k, ℓ-diversity and singling-out, linkability and inference "
                                         "risks against prod meet the manifest's thresholds")


def privacy_check_result(report: dict) -> dg.AssetCheckResult:
    measured = report.get("measured") or {}
    values, limits, failures = measured.get("values", {}), measured.get("thresholds", {}), measured.get("failures", [])
    failed = [name for name in PRIVACY_MEASURES if any(f.startswith(name + " ") for f in failures)]
    metadata: dict = {"sample_persons": measured.get("sample_persons", 0)}
    for name in PRIVACY_MEASURES:
        metadata[name] = values[name] if values.get(name) is not None else "n/a"
        metadata[f"{name}_threshold"] = "none set" if limits.get(name, "n/a") is None else limits.get(name, "n/a")
    described = "; ".join(f"{name} = {metadata[name]} (threshold {metadata[f'{name}_threshold']})"
                          for name in PRIVACY_MEASURES)
    return dg.AssetCheckResult(
        check_name=PRIVACY_CHECK, passed=bool(measured) and not failed, severity=dg.AssetCheckSeverity.ERROR,
        description="not measured (no gate: prod)" if not measured else
        (f"failed: {', '.join(failed)}; " if failed else "") + described,
        metadata=metadata,
    )


def build_masked_copy(product: DataProduct, name: str, dataset: Dataset, env: str) -> dg.AssetsDefinition:
    """The masked copy of a prod dataset in `env`, written by the owning domain in one Delta commit."""
    domain = product.domain

    @dg.asset(
        key=copy_key(domain, name, env),
        deps=[domain_key(domain, name)],
        description=f"{dataset.description} Masked copy for {env}: no raw PII.",
        kinds={"delta", "masking"},
        metadata={"dagster/uri": hurricane_paths().table_uri(env, domain, name), "hurricane/environment": env},
        check_specs=[privacy_check_spec(copy_key(domain, name, env))],
        **_common_spec_args(product, name, dataset),
    )
    def _masked_copy(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        # Imported here: the masking engine pulls in presidio and spaCy, which must not slow the
        # code location's import.
        from hurricane_assets.catalog import load_catalog
        from hurricane_assets.masking.copy import copy_masked

        report = copy_masked(load_catalog(), domain, name, env)
        summary = report.to_dict()
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": summary.get("rows_out", summary.get("rows")),
                "dagster/uri": hurricane_paths().table_uri(env, domain, name),
                "hurricane/privacy_report": dg.MetadataValue.json(summary),
            },
            check_results=[privacy_check_result(summary)],
        )

    return _masked_copy


def build_domain_assets(product: DataProduct, generate: GenerateFn) -> tuple[list, list]:
    """(assets, checks) for every dataset of a domain, with its allowed lower-environment copies."""
    assets: list = []
    checks: list = []
    for name, dataset in product.datasets.items():
        assets.append(build_prod_asset(product, name, dataset, generate))
        checks.append(build_dataset_checks(product, name, dataset))
        for env in LOWER_ENVIRONMENTS:
            if env in dataset.allowed_environments:
                assets.append(build_masked_copy(product, name, dataset, env))
    return assets, checks
