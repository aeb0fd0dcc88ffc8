import base64
import hashlib
import subprocess
import sys
import textwrap
from datetime import timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError

from hurricane_assets.ledger import (
    CheckpointStore,
    EntryType,
    Ledger,
    LedgerAppend,
    deterministic_entry_id,
    verify_ledger,
)
from hurricane_assets.ledger.entry import LEDGER_SCHEMA
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import LedgerConflict, LedgerPort

ACTORS = ["agent:payments/producer", "agent:risk/consumer", "system:ledger"]


def fill(ledger: Ledger, n: int, *, batch: bool = True) -> None:
    entries = [
        LedgerAppend(
            entry_type=EntryType.OFFER if i % 3 else EntryType.POLICY_DECISION,
            actor=ACTORS[i % 3],
            payload={"round": i, "terms_sha256": f"{i:064x}"},
            negotiation_id="neg-1",
            contract_id="contract-1" if i % 2 else None,
        )
        for i in range(n)
    ]
    if batch:
        ledger.append_batch(entries[: n // 2])
        ledger.append_batch(entries[n // 2 :])
    else:
        for e in entries:
            ledger.append(**e.model_dump())


@pytest.fixture
def ledger():
    ledger = Ledger(checkpoint_every=10)
    fill(ledger, 30)
    return ledger


def test_ledger_implements_port_and_verifies(ledger):
    assert isinstance(ledger, LedgerPort)
    result = verify_ledger()
    assert result.ok, result
    assert result.entries == 30 and result.checkpoints_checked >= 1 and result.signatures_checked == 6
    table = DeltaTable(hurricane_paths().ledger)
    assert table.metadata().configuration["delta.appendOnly"] == "true"
    assert table.transaction_version("dh-ledger") == 29


def test_single_appends_chain_and_sign_each_entry():
    ledger = Ledger()
    fill(ledger, 5, batch=False)
    rows = ledger.read().to_pylist()
    assert [r["seq"] for r in rows] == list(range(5))
    assert all(r["signature"] for r in rows)
    assert [r["prev_hash"] for r in rows[1:]] == [r["entry_hash"] for r in rows[:-1]]
    assert verify_ledger().ok


def test_append_is_idempotent_on_entry_id(ledger):
    entry_id = deterministic_entry_id("neg-1", "agreement")
    first = ledger.append(entry_type="AGREEMENT", actor="system:ledger", payload={"a": 1}, entry_id=entry_id)
    again = Ledger().append(entry_type="AGREEMENT", actor="system:ledger", payload={"a": 1}, entry_id=entry_id)
    assert first == again and len(ledger) == 31
    receipts = ledger.append_batch(
        [LedgerAppend(entry_type="AGREEMENT", actor="system:ledger", payload={"a": 1}, entry_id=entry_id),
         LedgerAppend(entry_type="OFFER", actor=ACTORS[0], entry_id="new-1")]
    )
    assert receipts[0] == first and receipts[1].seq == 31


@pytest.mark.parametrize(
    "change",
    [{"payload": {"a": 2}}, {"entry_type": "OFFER"}, {"actor": ACTORS[0]}, {"negotiation_id": "neg-2"}],
    ids=["payload", "type", "actor", "negotiation"],
)
def test_a_known_id_with_other_content_is_an_error_not_a_skip(ledger, change):
    """A re-run step that would write other bytes under a known id (a later clock, another LLM
    choice) must fail loudly: skipping it is how ledger and transcript diverged."""
    entry_id = deterministic_entry_id("neg-1", "offer")
    entry = dict(entry_type="AGREEMENT", actor="system:ledger", payload={"a": 1}, entry_id=entry_id)
    ledger.append(**entry)
    for writer in (ledger, Ledger()):  # the in-memory index and a fresh one read from the table
        with pytest.raises(LedgerConflict, match=entry_id):
            writer.append_batch([LedgerAppend(entry_type="OFFER", actor=ACTORS[0], entry_id="new-2"),
                                 LedgerAppend(**(entry | change))])
    assert len(ledger) == 31  # nothing of the batch was written


def test_bad_entries_are_rejected_without_writing(ledger):
    with pytest.raises(ValueError, match="unknown ledger entry type"):
        ledger.append(entry_type="GOSSIP", actor="system:ledger", payload={})
    with pytest.raises(ValueError, match="actor"):
        ledger.append(entry_type="OFFER", actor="payments", payload={})
    with pytest.raises(ValueError, match="entry_id"):
        ledger.append(entry_type="OFFER", actor="system:ledger", payload={}, entry_id='bad"id')
    with pytest.raises(TypeError, match="canonicalised"):
        ledger.append(entry_type="OFFER", actor="system:ledger", payload={"x": object()})
    assert len(ledger) == 30


def test_append_only_table_refuses_deletes(ledger):
    with pytest.raises(Exception, match="append-only"):
        DeltaTable(hurricane_paths().ledger).delete("seq = 3")


def test_stale_writer_cannot_fork_the_chain(ledger):
    stale = DeltaTable(hurricane_paths().ledger)
    ledger.append(entry_type="OFFER", actor=ACTORS[0], payload={"fresh": True})
    _, rows = ledger._chain([ledger._prepare(LedgerAppend(entry_type="OFFER", actor=ACTORS[0]))], 29, stale.history(1)[0]["dh.entry_hash"])
    with pytest.raises(CommitFailedError):
        ledger._commit(stale, rows)
    assert verify_ledger().ok


def test_compaction_keeps_the_ledger_valid(ledger):
    DeltaTable(hurricane_paths().ledger).optimize.compact()
    ledger.append(entry_type="OFFER", actor=ACTORS[0], payload={})
    assert len(ledger) == 31 and verify_ledger().ok


def test_checkpoints_every_n_entries_and_on_demand(ledger):
    sizes = [c.tree_size for c in ledger.checkpoints.all()]
    assert sizes == [15, 30]  # two batches of 15, each crossing a multiple of 10
    ledger.append(entry_type="OFFER", actor=ACTORS[0], payload={})
    assert ledger.checkpoint().tree_size == 31
    assert "\n\n\u2014 datahurricane-system " in ledger.checkpoints.latest().note


# -- tampering: rewrite a copy of the table (the real one is append-only) -------------------------


def verify_copy(uri: str):
    """Verify a tampered copy as if it were the ledger: against the real ledger's checkpoints."""
    return verify_ledger(uri, checkpoints=CheckpointStore())


def tampered_copy(tmp_path, change) -> str:
    table = DeltaTable(hurricane_paths().ledger).to_pyarrow_table().sort_by("seq")
    rows = change(table.to_pylist())
    uri = str(tmp_path / "tampered")
    write_deltalake(uri, pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA))
    return uri


def test_changed_payload_byte_is_located(ledger, tmp_path):
    def change(rows):
        rows[7]["payload_json"] = rows[7]["payload_json"].replace('"round":7', '"round":8')
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and result.first_bad_seq == 7 and "payload" in result.problem


def test_payload_change_with_recomputed_hash_is_located(ledger, tmp_path):
    def change(rows):
        rows[12]["payload_json"] = '{"round":999}'
        rows[12]["payload_hash"] = hashlib.sha256(b'{"round":999}').hexdigest()
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert result.first_bad_seq == 12 and "entry_hash" in result.problem


def test_deleted_entry_is_located(ledger, tmp_path):
    result = verify_copy(tampered_copy(tmp_path, lambda rows: rows[:4] + rows[5:]))
    assert not result.ok and result.first_bad_seq == 4 and "missing" in result.problem


def test_reordered_pair_is_located(ledger, tmp_path):
    def change(rows):
        rows[20]["seq"], rows[21]["seq"] = 21, 20
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and result.first_bad_seq == 20


def test_truncated_tail_is_located_by_the_checkpoint(ledger, tmp_path):
    # cut at a commit boundary: the chain and signatures of what is left are intact
    result = verify_copy(tampered_copy(tmp_path, lambda rows: rows[:15]))
    assert not result.ok and result.first_bad_seq == 15 and "truncated" in result.problem


def test_truncation_inside_a_commit_also_breaks_signature_coverage(ledger, tmp_path):
    result = verify_copy(tampered_copy(tmp_path, lambda rows: rows[:26]))
    assert not result.ok and 15 <= result.first_bad_seq <= 26


def test_forged_signature_is_located(ledger, tmp_path):
    def change(rows):
        signed = next(r for r in rows if r["signature"] and r["seq"] > 15)
        sig = bytearray(base64.b64decode(signed["signature"]))
        sig[5] ^= 0x01
        signed["signature"] = base64.b64encode(bytes(sig)).decode()
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and result.first_bad_seq >= 15 and "signature" in result.problem


def test_entry_rewritten_and_resigned_by_another_domain_is_located(ledger, tmp_path):
    from hurricane_assets.identity import KeyRing
    from hurricane_assets.ledger.ledger import group_message

    def change(rows):
        # risk's key signs an entry that claims to be payments': the registry says the key is risk's
        row = rows[3]
        risk = KeyRing().key("risk")
        row["signature"] = base64.b64encode(risk.sign(group_message([bytes.fromhex(row["entry_hash"])]))).decode()
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and result.first_bad_seq <= 3 and "signature" in result.problem


def test_removed_signature_leaves_entries_uncovered(ledger, tmp_path):
    def change(rows):
        for r in rows:
            if r["signature"] and r["seq"] > 20:
                r["signature"] = None
                break
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and "not covered" in result.problem


def test_two_processes_appending_concurrently_make_one_chain():
    script = textwrap.dedent(
        """
        import sys
        from hurricane_assets.ledger import Ledger
        ledger = Ledger(checkpoint_every=25)
        for i in range(25):
            ledger.append(entry_type="MESSAGE", actor=f"agent:{sys.argv[1]}/consumer", payload={"i": i}, entry_id=f"{sys.argv[1]}-{i}")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, name], stderr=subprocess.PIPE, text=True)
        for name in ("risk", "marketing")
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    result = verify_ledger()
    assert result.ok, result
    ids = set(Ledger().read(["entry_id"]).column("entry_id").to_pylist())
    assert ids == {f"{n}-{i}" for n in ("risk", "marketing") for i in range(25)}


def test_ledgers_at_different_uris_keep_their_own_checkpoints(tmp_path):
    one, two = Ledger(checkpoint_every=5), Ledger(str(tmp_path / "other"), checkpoint_every=5)
    fill(one, 10)
    fill(two, 12)
    assert verify_ledger().ok and verify_ledger(two.uri).ok
    assert [c.tree_size for c in two.checkpoints.all()] == [6, 12]


def test_key_rotation_is_recorded_and_old_key_stops_being_valid(ledger, tmp_path, monkeypatch):
    from hurricane_assets.clock import NOW_VARIABLE
    from hurricane_assets.identity.keys import parse_private_key
    from hurricane_assets.ledger.entry import header_bytes
    from hurricane_assets.ledger.ledger import group_message
    from tests.conftest import PINNED_NOW

    old = ledger.keyring.key("payments")
    key_file = ledger.keyring.source.files.path("payments")
    stolen = key_file.read_bytes()  # a thief's copy of the old key, taken before the rotation
    receipt = ledger.rotate_key("payments")
    # a minute passes: what the old key signs from now on is outside its validity
    monkeypatch.setenv(NOW_VARIABLE, (PINNED_NOW + timedelta(minutes=1)).isoformat())
    ledger.append(entry_type="OFFER", actor=ACTORS[0], payload={"after": True})
    rows = ledger.read().to_pylist()
    rotated = rows[receipt.seq]
    assert rotated["entry_type"] == "KEY_ROTATED" and rotated["key_id"] == old.key_id
    assert rows[-1]["key_id"] == ledger.keyring.key("payments").key_id != old.key_id
    assert verify_ledger().ok
    # the retired private key is destroyed: no file in the key store holds it any more
    assert [p.name for p in key_file.parent.iterdir() if not p.name.startswith(".")] == ["payments.ed25519"]
    assert stolen not in b"".join(p.read_bytes() for p in key_file.parent.iterdir() if p.is_file())

    # the last entry rebuilt and re-signed with the retired key (as a thief of the old key would)
    old_key = parse_private_key("payments", stolen, "stolen")

    def change(rows):
        last = rows[-1]
        last["key_id"] = old_key.key_id
        ts_us = int(last["ts"].timestamp() * 1_000_000)
        header = header_bytes(
            last["seq"], last["entry_id"], ts_us, last["entry_type"], last["actor"], last["negotiation_id"],
            last["contract_id"], last["payload_hash"], last["prev_hash"], old_key.key_id,
        )
        last["entry_hash"] = hashlib.sha256(header).hexdigest()
        last["signature"] = base64.b64encode(old_key.sign(group_message([bytes.fromhex(last["entry_hash"])]))).decode()
        return rows

    result = verify_copy(tampered_copy(tmp_path, change))
    assert not result.ok and result.first_bad_seq == len(rows) - 1 and "not valid at seq" in result.problem
