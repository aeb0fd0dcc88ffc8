"""What masking costs a consumer's model, per share: AUC on the masked share against the same rows unmasked.

For each share the model is fitted twice on the same own data, window and holdout, with only that
share: once on the share masked as the contract says (as delivered), once on the same rows where
only the identifiers are masked (so they still join) and every other column is as in prod. The
ratio `auc_masked / auc_unmasked` is the share's masking utility (the "ML efficacy" idea of SDMetrics);
the target is at least 0.95. Both versions are rebuilt from prod as of the share's last delivery, so
they hold the same rows; the unmasked one exists only in memory and only the AUCs leave.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.models.sources import ShareInput
from hurricane_assets.models.spec import ModelSpec
from hurricane_assets.models.training import TrainingData, fit, load_training_data
from hurricane_assets.storage import open_table

TARGET_RATIO = 0.95


class ShareUtility(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contract_id: str
    auc_masked: float
    auc_unmasked: float
    ratio: float  # auc_masked / auc_unmasked
    target: float
    meets_target: bool
    rows: int  # rows of the share in both versions
    as_of: datetime  # the delivery the rows were rebuilt for


def masking_utility(data: TrainingData, share: ShareInput, masked, unmasked, *, as_of: datetime,
                    target: float = TARGET_RATIO) -> ShareUtility:
    """Fit with own data plus `share` given as `masked`, then as `unmasked` (DataFrames of the same rows)."""
    if len(masked) != len(unmasked):
        raise ValueError(f"{share.contract_id}: masked ({len(masked)}) and unmasked ({len(unmasked)}) rows differ")
    auc = {}
    for name, frame in (("masked", masked), ("unmasked", unmasked)):
        trained = fit(replace(data, frames={**data.frames, share.prefix: frame}), shares=(share,))
        auc[name] = float(trained.metrics.holdout.roc_auc)
    ratio = auc["masked"] / auc["unmasked"] if auc["unmasked"] > 0 else 0.0
    return ShareUtility(contract_id=share.contract_id, auc_masked=auc["masked"], auc_unmasked=auc["unmasked"],
                        ratio=ratio, target=target, meets_target=ratio >= target, rows=len(masked), as_of=as_of)


def delivered_at(uri: str) -> datetime:
    """When the share was last written (its Delta commit time): the delivery's rows are rebuilt as of it."""
    return datetime.fromtimestamp(open_table(uri).history(1)[0]["timestamp"] / 1000, tz=timezone.utc)


def share_utilities(spec: ModelSpec, shares: list[ShareInput] | tuple[ShareInput, ...], *,
                    catalog: Catalog | None = None, data: TrainingData | None = None,
                    target: float = TARGET_RATIO) -> dict[str, ShareUtility]:
    """Per share with a contract in the registry: its masking utility for `spec`'s model."""
    from hurricane_assets.contracts.store import ContractStore
    from hurricane_assets.delivery.deliver import masked_share, unmasked_share
    from hurricane_assets.delivery.retention import RetentionCount, stamped_cutoff

    catalog = catalog or load_catalog()
    store = ContractStore()
    known = {c.contract_id: c for c in store.list()}
    shares = [s for s in shares if s.contract_id in known]
    if not shares:
        return {}
    data = data or load_training_data(spec, shares, catalog=catalog)
    out = {}
    for share in shares:
        terms = known[share.contract_id].terms
        as_of = delivered_at(share.uri)
        columns = list(share.columns)
        # the rows the delivery kept under the contract's retention (its cutoff is stamped on the share)
        cutoff = stamped_cutoff(share.uri)
        masked = masked_share(terms, catalog=catalog, now=as_of,
                              retention=cutoff and RetentionCount(cutoff)).table.select(columns).to_pandas()
        unmasked = unmasked_share(terms, catalog=catalog, now=as_of,
                                  retention=cutoff and RetentionCount(cutoff)).select(columns).to_pandas()
        out[share.contract_id] = masking_utility(data, share, masked, unmasked, as_of=as_of, target=target)
    return out
