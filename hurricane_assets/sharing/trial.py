"""Trial samples: before committing to a share, the consumer measures what a small masked sample of
the offered columns does for its model, and declines data that would not help.

A trial is a delivery in miniature, under the same rules: the policy must allow the offered terms,
the sample is masked exactly as the share would be, it lives in the consumer's environment only
while it is measured, and the ledger records that it happened (hashes and figures, no data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deltalake import write_deltalake

from hurricane_assets.clock import utc_now
from hurricane_assets.delivery.deliver import content_sha256, masked_share
from hurricane_assets.delivery.erase import erase_table
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.masking.kanonymity import KAnonymityError
from hurricane_assets.masking.measure import PrivacyCheckFailed
from hurricane_assets.models.sources import join_entities, share_from_terms
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.training import train_with_and_without
from hurricane_assets.sharing.ids import entry_id
from hurricane_assets.sharing.platform import SharingPlatform
from hurricane_assets.storage import storage_options
from negotiation_graph.terms import NeedSpec, RowFilter, ShareTerms


@dataclass
class TrialSampleEstimator:
    """Implements `negotiation_graph.ports.ValueEstimator`.

    The estimate is the AUC uplift measured with the sample, scaled up by the sample fraction (rows
    without the sample carry no share features), minus the uplift the model spec requires to keep a
    share: zero or less means "useless to this model", and the negotiation declines it (`no_value`).
    The uplift is the one the keep-or-revoke verdict judges a delivered share by, its 95 % lower
    confidence bound (`ShareUplift.confident_uplift`): on a holdout of a few dozen frauds a useless
    share's point estimate moves by ±0.015, so a point estimate accepted data the verdict would revoke.
    """

    platform: SharingPlatform
    sample_fraction: float = 0.5
    measured: dict[str, float] = field(default_factory=dict)  # terms sha256 → estimate, for the record

    def estimate(self, need: NeedSpec, terms: ShareTerms) -> float:
        key = terms.sha256()
        if key in self.measured:
            return self.measured[key]
        if not self.platform.gate.evaluate(terms).allowed:
            return 0.0  # a trial is a delivery: nothing the policy denies is sampled
        spec = load_model_spec(need.consumer, need.model, catalog=self.platform.catalog)
        trial = terms.model_copy(update={"row_filter": RowFilter(sample_fraction=self.sample_fraction)})
        try:
            masked = masked_share(trial, catalog=self.platform.catalog, now=utc_now())
        except (KAnonymityError, PrivacyCheckFailed):
            # a trial is a delivery: terms whose masked rows fail the privacy checks could not be delivered
            self.measured[key] = 0.0
            return 0.0
        share = share_from_terms(trial, f"trial-{key[:12]}", self.platform.catalog,
                                 join_entities(spec, self.platform.catalog),
                                 table=f"_trial__{terms.producer}__{terms.dataset}")
        try:
            write_deltalake(share.uri, masked.table, mode="overwrite", schema_mode="overwrite",
                            storage_options=storage_options(share.uri) or None)
            report = train_with_and_without(spec, [share], catalog=self.platform.catalog)
        finally:
            erase_table(share.uri)
        uplift = report.uplift
        confident = report.per_share[share.contract_id].confident_uplift
        value = confident / self.sample_fraction - spec.thresholds.min_uplift
        self.platform.ledger.append(
            entry_type=EntryType.MESSAGE,
            actor=f"agent:{terms.consumer}/consumer",
            payload={"kind": "trial_sample", "terms_sha256": key, "model": need.model,
                     "sample_fraction": self.sample_fraction, "rows": masked.table.num_rows,
                     "sample_sha256": content_sha256(masked.table),
                     "uplift": round(uplift, 6), "confident_uplift": round(confident, 6),
                     "estimate": round(value, 6), "erased": True},
            entry_id=entry_id(need.need_id, key, "trial"),
        )
        self.measured[key] = value
        return value
