"""The catalog of data products: typed manifests (`manifest.py`) and search over them (`catalog.py`)."""

from hurricane_assets.catalog.catalog import Catalog, ColumnRef, load_catalog
from hurricane_assets.catalog.manifest import (
    Classification,
    Column,
    ColumnType,
    DataProduct,
    Dataset,
    ManifestError,
    PiiEntity,
    load_manifest,
)

__all__ = [
    "Catalog",
    "Classification",
    "Column",
    "ColumnRef",
    "ColumnType",
    "DataProduct",
    "Dataset",
    "ManifestError",
    "PiiEntity",
    "load_catalog",
    "load_manifest",
]
