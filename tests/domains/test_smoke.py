"""The whole domain graph materializes on tiny data, every check passes, every table is readable."""

from __future__ import annotations

import dagster as dg
import pytest
from deltalake import DeltaTable

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.schema import arrow_schema, schema_diff
from hurricane_assets.settings import hurricane_paths
from tests.domains.conftest import DOMAINS


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_job_materializes_with_all_checks_passing(domain, build_defs):
    defs = build_defs(domain)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def(f"{domain}_prod").execute_in_process(instance=instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    failed = [(e.asset_key.to_user_string(), e.check_name, e.description) for e in evaluations if not e.passed]
    assert not failed
    product = load_catalog().product(domain)
    copies = sum(1 for d in product.datasets.values() for env in ("preprod", "dev") if env in d.allowed_environments)
    # five data checks per prod dataset, one measured-privacy check (five measures) per masked copy (issue 11)
    assert len(evaluations) == 5 * len(product.datasets) + copies
    privacy = [e for e in evaluations if e.check_name.startswith("privacy_")]
    assert {e.check_name for e in privacy} == {"privacy_measured"}
    for evaluation in privacy:  # ℓ-diversity and inference are n/a where a copy has no sensitive column
        assert evaluation.metadata["k"].value >= evaluation.metadata["k_threshold"].value, evaluation.asset_key
        for measure in ("k", "l_diversity", "singling_out_risk", "linkability_risk", "inference_risk"):
            assert f"{measure} = " in evaluation.description and f"{measure}_threshold" in evaluation.metadata
    assert {e.asset_key.path[-1] for e in privacy} == {
        f"{name}_{env}" for name, d in product.datasets.items() for env in ("preprod", "dev") if env in d.allowed_environments}
    for event in result.get_asset_materialization_events():
        meta = event.event_specific_data.materialization.metadata
        assert meta["dagster/row_count"].value > 0
    for name, dataset in product.datasets.items():
        table = DeltaTable(hurricane_paths().table_uri("prod", domain, name))
        assert schema_diff(arrow_schema(dataset), table.to_pyarrow_dataset().schema).ok
        assert table.to_pandas().shape[0] > 0
