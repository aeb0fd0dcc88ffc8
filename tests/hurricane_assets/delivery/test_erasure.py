"""Right to erasure propagates: a customer erased in prod leaves every lower-environment copy and every
active share in the next run, with nothing of theirs left in any file below prod, and the ledger says so."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.erasure import ErasureError, load_erasures, request_erasure
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import load_model, save_model
from hurricane_assets.models.subjects import digests, subject_column
from hurricane_assets.models.training import load_training_data, train_model
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table
from tests.hurricane_assets.delivery.test_deliver import run, signed
from tests.hurricane_assets.share_terms import fraud_terms

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
COPIES = [("customers", "profiles"), ("payments", "transactions"), ("support", "tickets")]
PII = ("customer_id", "email", "phone", "full_name", "national_id", "iban")


def copy_everything(catalog) -> dict:
    reports = {}
    for domain, dataset in COPIES:
        for env in catalog.dataset(domain, dataset).allowed_environments:
            if env != "prod":
                reports[(domain, dataset, env)] = copy_masked(catalog, domain, dataset, env)
    return reports


def below_prod_roots(contracts) -> list[Path]:
    roots = [Path(hurricane_paths().env_root(env)) for env in ("preprod", "dev")]
    return [r for r in roots if r.exists()] + [Path(c.share_uri) for c in contracts]


def stored_strings(roots: list[Path]) -> tuple[bytes, set[str]]:
    """Every byte of every file below prod, and every string value of every parquet file in them
    (data files of any version, orphans and checkpoints alike), since compression hides bytes."""
    raw, values = [], set()
    for root in roots:
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            raw.append(path.read_bytes())
            if path.suffix == ".parquet":
                table = pq.read_table(path)
                for column in table.itercolumns():
                    values |= _strings(column)
    return b"\n".join(raw), values


def _strings(value) -> set[str]:
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        value = value.to_pylist()
    if isinstance(value, str):
        return {value} if value else set()
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def test_an_erased_customer_leaves_every_copy_and_share(share_parts, share_prod_tables):
    catalog, ledger = share_parts["catalog"], share_parts["ledger"]
    before = copy_everything(catalog)
    contract = signed(share_parts, fraud_terms())
    run(share_parts, contract, now=NOW)

    # the victim: a customer with transactions and tickets, and what of theirs sits below prod now
    prod = {(d, s): read_table(hurricane_paths().table_uri("prod", d, s)) for d, s in COPIES}
    tickets = prod[("support", "tickets")]
    victim = next(c for c in tickets["customer_id"].to_pylist()
                  if pc.sum(pc.equal(prod[("payments", "transactions")]["customer_id"], c)).as_py() >= 2)
    profiles = prod[("customers", "profiles")]
    row = profiles.filter(pc.equal(profiles["customer_id"], victim)).to_pylist()[0]
    raw_values = {str(row[c]) for c in PII if c in row and row[c]}
    masked_values, tokens = set(), set()
    for (domain, dataset, env), report in before.items():
        if dataset != "profiles":
            continue
        copy = DeltaTable(report.target_uri).to_pyarrow_table()
        index = profiles["customer_id"].to_pylist().index(victim)  # masking keeps row order
        for column in ("customer_id", "email", "phone"):
            if column not in copy.column_names or copy[column][index].as_py() is None:
                continue
            value = copy[column][index].as_py()
            # A fake shared with a person who stays (a phone from a regulator's fiction range of
            # 10,000 numbers, say) is nobody's in particular: it is not the erased person's value.
            if pc.sum(pc.equal(copy[column], value)).as_py() == 1:
                masked_values.add(value)
        if env == "preprod":
            tokens.add(copy["customer_id"][index].as_py())
    txns = prod[("payments", "transactions")]
    victim_txns = set(txns.filter(pc.equal(txns["customer_id"], victim))["txn_id"].to_pylist())
    share = DeltaTable(contract.share_uri).to_pyarrow_table()
    # txn ids are tokenized below prod too: the victim's share rows are found by the preprod copy's token
    (token,) = tokens
    assert pc.sum(pc.equal(share["customer_id"], token)).as_py() >= 1  # the same token as the preprod copy
    masked_values.discard(None)
    assert masked_values and raw_values
    _, values_before = stored_strings(below_prod_roots([contract]))
    assert masked_values <= values_before  # the scan below does see them while they are there

    # prod: the customers domain deletes the profile; payments keep the transactions (legal retention)
    DeltaTable(hurricane_paths().table_uri("prod", "customers", "profiles")).delete(f"customer_id = '{victim}'")
    request = request_erasure("customer", victim, reason="GDPR art. 17 request", ledger=ledger, now=NOW)
    assert victim not in repr(request)

    after = copy_everything(catalog)
    delivery = run(share_parts, contract, now=NOW)

    raw, values = stored_strings(below_prod_roots([contract]))
    for needle in masked_values | raw_values | victim_txns:
        assert needle not in values, "an erased person's value is still stored below prod"
        assert needle.encode() not in raw, "an erased person's value is still stored below prod"
    assert delivery.changed and delivery.privacy.erasure["rows_removed"] == len(victim_txns)
    assert after[("payments", "transactions", "preprod")].erasure["rows_removed"] == len(victim_txns)
    assert after[("customers", "profiles", "preprod")].erasure["rows_removed"] == 0  # prod deleted it already

    entries = [e for e in ledger.tail(50) if e["entry_type"] == "ERASURE"]
    stages = {(json.loads(e["payload_json"])["stage"], e["contract_id"]) for e in entries}
    assert stages == {("requested", None), ("applied", contract.contract_id)}
    assert all(victim not in e["payload_json"] for e in entries)
    run(share_parts, contract, now=NOW)  # a later delivery records nothing twice
    assert len([e for e in ledger.tail(50) if e["entry_type"] == "ERASURE"]) == 2
    assert verify_ledger().ok


def test_an_erasure_request_is_checked_and_recorded_once(share_parts):
    ledger = share_parts["ledger"]
    first = request_erasure("customer", "cust_0000001", reason="art. 17", ledger=ledger, now=NOW)
    again = request_erasure("customer", "cust_0000001", reason="art. 17", ledger=ledger, now=NOW)
    assert again.request_id == first.request_id and len(ledger) == 1
    assert load_erasures().subjects == {"customer": frozenset({"cust_0000001"})}
    with pytest.raises(ErasureError, match="field 'subject' must be a non-empty string"):
        request_erasure("customer", " ", reason="art. 17", ledger=ledger, now=NOW)
    with pytest.raises(ErasureError, match="field 'now' needs a timezone"):
        request_erasure("customer", "cust_2", reason="art. 17", ledger=ledger, now=datetime(2026, 3, 1))


def test_an_erasure_request_that_would_match_no_row_is_refused(share_parts):
    """'customers' for 'customer', or an id with a space around it, erased nobody and was still listed
    as applied in every copy's report."""
    ledger = share_parts["ledger"]
    with pytest.raises(ErasureError, match="field 'entity' is not an entity any column refers to .*customer"):
        request_erasure("customers", "cust_0000003", reason="art. 17", ledger=ledger, now=NOW)
    with pytest.raises(ErasureError, match="field 'subject' has leading or trailing whitespace"):
        request_erasure("customer", " cust_0000004 ", reason="art. 17", ledger=ledger, now=NOW)
    assert len(ledger) == 0 and load_erasures().request_ids == ()


def test_an_erasure_reaches_the_consumers_model_store_through_its_own_model_run_not_the_delivery(
        share_parts, install_world):
    """The exchange delivers into the consumer's inbox and holds no write access to anything else of the
    consumer's (docs/scale.md: its IAM role writes `envs/*/<domain>/*__*` only): a delivery that also
    rewrote the consumer's model store failed on S3 and crossed that boundary. The consumer's own model
    run (the retrain a changed share starts) takes the erased customer's rows out of every stored version
    (here risk's fraud model, one reference row per alert) and counts them per version."""
    import dagster as dg

    from hurricane_assets.dagster_layer.models import build_model_definitions, model_key

    install_world("calm")
    spec = load_model_spec("risk", "fraud_model")
    save_model(train_model(spec))
    data = load_training_data(spec)
    fit, holdout = data.window()
    token = data.rows.at[fit[0], "customer_id"]
    prod = read_table(hurricane_paths().table_uri("prod", "risk", "alerts"))["customer_id"].to_pylist()
    copy = read_table(hurricane_paths().table_uri("preprod", "risk", "alerts"))["customer_id"].to_pylist()
    assert len(prod) == len(copy)  # masking keeps the rows in order
    subject = prod[copy.index(token)]
    digest = digests([token], Keyring.load("preprod"), "customer")[0]
    before = load_model("risk", "fraud_model").reference()
    theirs = int((before[subject_column("customer_id")] == digest).sum())
    assert theirs >= 1

    contract = signed(share_parts, fraud_terms())
    request_erasure("customer", subject, reason="GDPR art. 17", ledger=share_parts["ledger"], now=NOW)
    delivery = run(share_parts, contract, now=NOW)
    assert "model_references" not in (delivery.privacy.erasure or {})
    assert load_model("risk", "fraud_model", "v0001").reference().equals(before)  # the exchange left it alone

    assets, _ = build_model_definitions("risk", lambda domain, purpose: [])
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, instance=instance, selection=[model_key(spec)])
    metadata = next(e.materialization.metadata for e in result.all_events
                    if e.is_step_materialization and e.materialization.asset_key == model_key(spec))
    assert metadata["hurricane/erasure_model_references"].data["rows_removed"]["fraud_model/v0001"] == theirs
    after = load_model("risk", "fraud_model", "v0001").reference()
    assert digest not in set(after[subject_column("customer_id")]) and len(after) == len(before) - theirs
