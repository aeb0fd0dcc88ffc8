"""Workspace integrity: every code location loads, keys are [domain, dataset], no key is produced twice."""

from __future__ import annotations

import dagster as dg

from hurricane_assets.catalog import load_catalog
from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations
from tests.domains.conftest import DOMAINS


def all_locations() -> dict[str, dg.Definitions]:
    return {name: load_location(module, reload=True) for name, module in workspace_locations().items()}


def test_workspace_lists_every_domain_location():
    assert set(DOMAINS) <= set(workspace_locations())


def test_every_location_loads_and_validates():
    for name, defs in all_locations().items():
        dg.Definitions.validate_loadable(defs)
        assert defs.resolve_asset_graph().get_all_asset_keys(), name


def test_keys_have_two_parts_and_belong_to_their_domain():
    for name, defs in all_locations().items():
        for key in defs.resolve_asset_graph().materializable_asset_keys:
            assert len(key.path) == 2, key
            if name in DOMAINS:
                assert key.path[0] == name, f"{name} materializes foreign key {key}"


def test_no_key_is_materializable_in_two_locations():
    owner: dict[dg.AssetKey, str] = {}
    for name, defs in all_locations().items():
        for key in defs.resolve_asset_graph().materializable_asset_keys:
            assert key not in owner, f"{key} produced by {owner[key]} and {name}"
            owner[key] = name


def test_every_catalog_dataset_is_an_asset_with_checks_and_freshness():
    catalog = load_catalog()
    locations = all_locations()
    for domain, dataset, _ in catalog.datasets():
        graph = locations[domain].resolve_asset_graph()
        key = dg.AssetKey([domain, dataset])
        node = graph.get(key)
        assert node.freshness_policy is not None, key
        checks = {c.name for c in graph.get_check_keys_for_assets([key])}
        assert {"schema_matches_manifest", "keys_unique_not_null", "data_fresh"} <= checks, key


def test_every_sensor_starts_running():
    for name, defs in all_locations().items():
        for sensor in defs.sensors or []:
            assert sensor.default_status == dg.DefaultSensorStatus.RUNNING, f"{name}: {sensor.name}"
