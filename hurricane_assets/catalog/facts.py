"""A catalog column as the negotiation sees it (`ColumnFacts`): what it is, how sensitive, what it
refers to. One mapping for the negotiation directory, model features and trials."""

from __future__ import annotations

from hurricane_assets.catalog.manifest import Column
from negotiation_graph.ports import ColumnFacts


def column_facts(column: Column) -> ColumnFacts:
    return ColumnFacts(
        type=column.type,
        classification=column.classification.value,
        sensitivity=column.classification.rank,
        pii=column.pii.value if column.pii else None,
        refers_to=column.refers_to,
        tags=column.tags,
        description=column.description,
    )
