"""Shares a model already tried and found useless: what its next data need leaves out, and until when.

A share is measured after the model retrains on it; one that did not help is revoked (a CONTRACT_TESTED
entry with `keep: false`, then a REVOKED entry, both by the consumer). Nothing had read those verdicts
back, so the next degradation asked for the same columns again, got them again and revoked them again.

The rule: the model's own verdict on a producer's dataset and columns holds for one training window
(`training.train_days`) on the platform clock after the revocation. The verdict was measured on that
window; once the clock has moved a whole window on, the model trains on rows the verdict never saw,
so the earlier measurement says nothing about them and asking again is fair. A later verdict on the
same dataset and columns replaces an earlier one (a share kept after a retry is not left out).

Everything is read from the ledger (`LedgerHistory`), never from contract files, which an insider can
edit: the verdict and its columns from the CONTRACT_TESTED entry, the revocation's time from the REVOKED
entry, and the producer, consumer and dataset from the CONTRACT_SIGNED entry the contract descends from.
A verdict recorded before the tested columns were written into it stands for the whole dataset.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.models.spec import ModelSpec


class LeftOut(BaseModel):
    """A producer's dataset and columns this model tried and revoked, left out of its data need."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: str
    dataset: str
    columns: tuple[str, ...] | None  # the columns tested; None: a verdict that did not record them (all)
    contract_id: str
    uplift: float
    verdict: str  # the judge's reason, e.g. "uplift -0.0150 < 0.0150"
    revoked_at: datetime
    retry_after: datetime  # asked for again from this instant of the platform clock

    def covers(self, producer: str, dataset: str, column: str) -> bool:
        return (producer, dataset) == (self.producer, self.dataset) and (self.columns is None or column in self.columns)

    @property
    def why(self) -> str:
        shown = ", ".join(self.columns) if self.columns is not None else "all columns"
        return (f"{self.producer}.{self.dataset} ({shown}): tried under {self.contract_id} and revoked "
                f"{self.revoked_at:%Y-%m-%d %H:%M} UTC for not helping ({self.verdict}); "
                f"not asked for again before {self.retry_after:%Y-%m-%d %H:%M} UTC")


def _revoked_after(history: LedgerHistory, contract_id: str, seq: int) -> dict[str, Any] | None:
    return next((r for r in history.of_type(EntryType.REVOKED) if r["contract_id"] == contract_id and r["seq"] > seq),
                None)


def _verdict(history: LedgerHistory, tested: dict[str, Any], spec: ModelSpec) -> tuple[tuple, LeftOut | None] | None:
    """(what was tested, the item to leave out or None if kept) for one of this model's verdicts, or None
    for another model's or another consumer's."""
    payload = tested["payload"]
    signed = history.signed(tested["contract_id"] or "")
    if payload.get("model") != spec.name or signed is None or signed.get("consumer") != spec.domain:
        return None
    columns = tuple(sorted(payload["columns"])) if payload.get("columns") is not None else None
    what = (signed["producer"], signed["dataset"], columns)
    revoked = None if payload.get("keep") else _revoked_after(history, tested["contract_id"], tested["seq"])
    if revoked is None:  # kept, or judged useless but not revoked: no verdict to respect
        return what, None
    return what, LeftOut(
        producer=signed["producer"], dataset=signed["dataset"], columns=columns, contract_id=tested["contract_id"],
        uplift=float(payload.get("uplift", 0.0)), verdict=str(payload.get("reason", "")),
        revoked_at=revoked["ts"], retry_after=revoked["ts"] + timedelta(days=spec.training.train_days),
    )


def left_out(history: LedgerHistory, spec: ModelSpec, now: datetime) -> tuple[LeftOut, ...]:
    """What `spec`'s model tried and revoked for not helping, whose cool-off has not ended at `now`."""
    latest: dict[tuple, LeftOut | None] = {}
    for tested in history.of_type(EntryType.CONTRACT_TESTED):  # seq order: a later verdict replaces
        found = _verdict(history, tested, spec)
        if found is not None:
            latest[found[0]] = found[1]
    return tuple(item for item in latest.values() if item is not None and now < item.retry_after)
