"""All domains' data products, loaded together and searchable by entity, column, tag and class."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hurricane_assets.catalog.manifest import (
    Classification,
    Column,
    DataProduct,
    Dataset,
    ManifestError,
    load_manifest,
)

MANIFEST_NAME = "product.yaml"


def default_domains_dir() -> Path:
    import domains

    return Path(domains.__file__).parent


@dataclass(frozen=True)
class ColumnRef:
    domain: str
    dataset: str
    column: str
    spec: Column

    @property
    def qualified(self) -> str:
        return f"{self.domain}.{self.dataset}.{self.column}"


@dataclass(frozen=True)
class Catalog:
    products: dict[str, DataProduct]

    @property
    def domains(self) -> list[str]:
        return sorted(self.products)

    def product(self, domain: str) -> DataProduct:
        try:
            return self.products[domain]
        except KeyError:
            raise KeyError(f"unknown domain {domain!r}; known: {', '.join(self.domains)}") from None

    def dataset(self, domain: str, dataset: str) -> Dataset:
        product = self.product(domain)
        try:
            return product.datasets[dataset]
        except KeyError:
            known = ", ".join(sorted(product.datasets))
            raise KeyError(f"unknown dataset {domain}.{dataset}; {domain} offers: {known}") from None

    def datasets(self) -> list[tuple[str, str, Dataset]]:
        return [
            (domain, name, ds)
            for domain in self.domains
            for name, ds in self.products[domain].datasets.items()
        ]

    def columns(self) -> list[ColumnRef]:
        return [
            ColumnRef(domain, name, col, spec)
            for domain, name, ds in self.datasets()
            for col, spec in ds.columns.items()
        ]

    def search(
        self,
        *,
        entity: str | None = None,
        column: str | None = None,
        tag: str | None = None,
        classification: Classification | str | None = None,
        max_classification: Classification | str | None = None,
    ) -> list[ColumnRef]:
        """Columns matching every given criterion.

        `entity` matches the entity a column refers to or the entity its dataset is about; `tag`
        matches column or dataset tags; `max_classification` keeps columns at or below that class.
        """
        wanted = Classification(classification) if classification else None
        ceiling = Classification(max_classification) if max_classification else None
        hits = []
        for ref in self.columns():
            ds = self.products[ref.domain].datasets[ref.dataset]
            if entity and entity not in (ref.spec.refers_to, ds.entity):
                continue
            if column and column != ref.column:
                continue
            if tag and tag not in ref.spec.tags and tag not in ds.tags:
                continue
            if wanted and ref.spec.classification != wanted:
                continue
            if ceiling and ref.spec.classification.rank > ceiling.rank:
                continue
            hits.append(ref)
        return hits


def load_catalog(domains_dir: str | Path | None = None) -> Catalog:
    """Load every `<domain>/product.yaml` under `domains_dir`; the first bad manifest raises."""
    root = Path(domains_dir) if domains_dir else default_domains_dir()
    products: dict[str, DataProduct] = {}
    for manifest in sorted(root.glob(f"*/{MANIFEST_NAME}")):
        product = load_manifest(manifest, expected_domain=manifest.parent.name)
        products[product.domain] = product
    if not products:
        raise ManifestError(root, "<folder>", f"no {MANIFEST_NAME} found under any domain folder")
    return Catalog(products=products)
