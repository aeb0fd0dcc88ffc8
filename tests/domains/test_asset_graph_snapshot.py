"""A snapshot of the whole asset graph: keys, deps, checks, owners, kinds, freshness, automation.

Any change to the contract the platform exposes shows up here; update it deliberately with
`pytest --snapshot-update`.
"""

from __future__ import annotations

from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations


def describe_graph() -> dict:
    graph = {}
    for location, module in workspace_locations().items():
        asset_graph = load_location(module, reload=True).resolve_asset_graph()  # from this test's empty registry
        for key in sorted(asset_graph.materializable_asset_keys, key=lambda k: k.to_user_string()):
            node = asset_graph.get(key)
            graph[key.to_user_string()] = {
                "location": location,
                "deps": sorted(p.to_user_string() for p in node.parent_keys),
                "checks": sorted(c.name for c in asset_graph.get_check_keys_for_assets([key])),
                "owners": list(node.owners),
                "kinds": sorted(node.kinds),
                "group": node.group_name,
                "tags": dict(sorted(node.tags.items())),
                "freshness": repr(node.freshness_policy) if node.freshness_policy else None,
                "automation": str(node.automation_condition) if node.automation_condition else None,
                "columns": [c.name for c in node.metadata["dagster/column_schema"].columns]
                if "dagster/column_schema" in node.metadata
                else None,
            }
    return graph


def test_asset_graph_snapshot(snapshot):
    assert describe_graph() == snapshot
