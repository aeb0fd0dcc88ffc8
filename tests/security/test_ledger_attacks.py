"""Attacks on the ledger by an insider who can edit and delete files under `$HURRICANE_HOME`.

Each test reproduces a case of issue 10 ("What was seen", Ledger) that `hurricane ledger verify`
accepted before witnesses existed, and shows verify now rejects it, naming the witness that disagrees.
"""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.ledger import CheckpointStore, EntryType, Ledger, LedgerAppend, verify_ledger
from hurricane_assets.ledger.merkle import MerkleLevels
from hurricane_assets.settings import hurricane_paths
from tests.security import attacker

runner = CliRunner()
WITNESSES = ("customers", "marketing", "payments", "risk", "support")


def verify_cli(*args: str):
    result = runner.invoke(app, ["ledger", "verify", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_honest_ledger_verifies_with_every_witness(story_ledger):
    result = verify_cli("--json")
    assert result.exit_code == 0, result.output
    # the last REVOKED (seq 32) is covered by a checkpoint all five cosigned; 4 messages follow it
    assert json.loads(result.output) | {"signatures_checked": 0, "checkpoints_checked": 0} == {
        "ok": True, "entries": 37, "first_bad_seq": None, "problem": None, "signatures_checked": 0,
        "checkpoints_checked": 0, "cosigned_entries": 33, "witnesses": 5,
    }


def test_deleting_the_trailing_commits_with_both_revocations_is_invalid(story_ledger):
    attacker.delete_last_commits(13)
    assert len(attacker.rows()) == 24
    result = verify_cli()
    assert result.exit_code == 1
    assert result.output.startswith("ledger INVALID at seq 24: ledger truncated: witness customers cosigned")


def test_cut_to_ten_entries_and_deleting_later_checkpoints_is_invalid(story_ledger):
    attacker.keep_commits_through_seq(9)
    store = CheckpointStore().bind(story_ledger.log_id())
    for path in store.folder.glob("*.json"):
        if int(path.stem) > 10:
            path.unlink()
    result = verify_cli()
    assert result.exit_code == 1 and "ledger INVALID at seq 10: ledger truncated: witness" in result.output


def Witness(identity):  # noqa: N802 - imported late so this file also runs against the code before witnesses
    from hurricane_assets.ledger.witness import Witness as _Witness

    return _Witness(identity)


def sign_checkpoint(*args, **kwargs):
    from hurricane_assets.ledger.checkpoint import sign_checkpoint as _sign

    return _sign(*args, **kwargs)


def _rewrite_one_payload_and_resign_everything() -> list[dict]:
    rows = attacker.rows()
    rows[14]["payload_json"] = rows[14]["payload_json"].replace('"step":6', '"step":66')
    keys = {identity: attacker.steal_key(identity) for identity in ("payments", "risk", "system")}
    rewritten = attacker.rewrite_chain(rows, keys, 14)
    attacker.replace_table(rewritten)
    # the log's own checkpoints, re-signed with the stolen log key so they match the new chain
    store = CheckpointStore().bind(rewritten[0]["entry_hash"][:16])
    shutil.rmtree(store.folder)
    tree = MerkleLevels([bytes.fromhex(r["entry_hash"]) for r in rewritten])
    from hurricane_assets.identity import FileKeySource, KeyRing

    forged = sign_checkpoint(f"data-hurricane.ledger/{store.log_id}", len(rewritten), tree.root(len(rewritten)), KeyRing(FileKeySource()))
    store.save(forged)
    return rewritten


def test_rewriting_a_payload_and_resigning_the_chain_with_the_stolen_keys_is_invalid(story_ledger):
    _rewrite_one_payload_and_resign_everything()
    result = verify_cli()
    assert result.exit_code == 1
    assert "witness customers cosigned a different history" in result.output


def test_rewrite_with_one_domains_keys_forging_its_witness_copy_is_still_invalid(story_ledger):
    """The attacker also holds payments' key and re-cosigns payments' witness copy: four others disagree."""
    rewritten = _rewrite_one_payload_and_resign_everything()
    witness = Witness("payments")
    origin = f"data-hurricane.ledger/{rewritten[0]['entry_hash'][:16]}"
    shutil.rmtree(witness.folder)  # payments' storage, with payments' key: a fresh witness of the forged log
    tree = MerkleLevels([bytes.fromhex(r["entry_hash"]) for r in rewritten])
    from hurricane_assets.identity import KeyRing

    note = sign_checkpoint(origin, len(rewritten), tree.root(len(rewritten)), KeyRing()).note
    witness.add_checkpoint(note, 0, [])
    result = verify_ledger()
    assert not result.ok and "witness payments" not in result.problem
    assert "witness customers cosigned a different history" in result.problem


def test_rewrite_and_deleting_every_witness_copy_is_invalid(story_ledger):
    _rewrite_one_payload_and_resign_everything()
    for identity in WITNESSES:
        shutil.rmtree(Witness(identity).folder)
    result = verify_ledger()
    assert not result.ok and "not covered by a checkpoint cosigned by every witness" in result.problem


def test_editing_a_witness_copy_without_its_key_is_detected(story_ledger):
    witness = Witness("risk")
    path = next(witness.folder.glob("*.json"))
    copy = json.loads(path.read_text())
    copy["tree_size"] = 24  # pretend risk cosigned only up to before the revocations
    path.write_text(json.dumps(copy))
    result = verify_ledger()
    assert not result.ok and "witness risk: its copy does not verify" in result.problem


def test_fork_shown_to_two_groups_of_witnesses_is_invalid_naming_the_other_group(story_ledger, tmp_path):
    """Split view: the log extends one history to three witnesses and another to two."""
    fork_uri = str(tmp_path / "fork")
    shutil.copytree(attacker.ledger_dir(), fork_uri)
    honest_group = [Witness(w) for w in ("customers", "marketing", "risk")]
    fork_group = [Witness(w) for w in ("payments", "support")]
    honest = Ledger(witnesses=honest_group)
    fork = Ledger(fork_uri, witnesses=fork_group, checkpoints=CheckpointStore(tmp_path / "fork_checkpoints"))
    honest.append(entry_type=EntryType.REVOKED, actor="system:ledger", payload={"contract": 2}, contract_id="contract-2")
    fork.append(entry_type=EntryType.RENEWED, actor="system:ledger", payload={"contract": 2}, contract_id="contract-2")
    assert not honest.last_refusals and not fork.last_refusals  # each group saw a consistent extension
    result = verify_ledger()
    assert not result.ok and result.first_bad_seq == 37
    assert "witness payments cosigned a different history of the first 38 entries" in result.problem
    result = verify_ledger(fork_uri)
    assert not result.ok and "witness customers cosigned a different history" in result.problem
    # and once a witness has seen one branch, the log cannot get it to cosign the other
    honest_size = len(honest)
    fork.append_batch([LedgerAppend(entry_type=EntryType.MESSAGE, actor="system:ledger", payload={"i": i}) for i in range(3)])
    fork._witnesses = honest_group
    fork.checkpoint()
    assert {r.witness for r in fork.last_refusals} == {"customers", "marketing", "risk"}
    assert all("fork or rewrite" in r.reason for r in fork.last_refusals)
    assert len(honest) == honest_size


def test_path_spelling_and_a_moved_home_find_the_same_checkpoints(story_ledger, tmp_path, monkeypatch):
    slash = verify_ledger(hurricane_paths().ledger + "/")
    assert slash.ok and slash.checkpoints_checked >= 5 and slash.cosigned_entries == 33
    moved = tmp_path / "moved-home"
    shutil.copytree(hurricane_paths().home, moved, symlinks=True)
    monkeypatch.setenv("HURRICANE_HOME", str(moved))
    result = verify_cli("--json")
    assert result.exit_code == 0 and json.loads(result.output)["cosigned_entries"] == 33
    result = verify_cli("--uri", str(moved / "ledger") + "//", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["checkpoints_checked"] >= 5


def test_verify_of_a_nonexistent_uri_is_an_error():
    result = verify_cli("--uri", "/nonexistent/ledger")
    assert result.exit_code == 2
    assert result.output.strip() == "error: no ledger at /nonexistent/ledger: there is no Delta table there"


def test_deleted_middle_commit_file_is_a_finding_not_a_traceback(story_ledger):
    middle = attacker.commit_files()[10]
    middle.unlink()
    result = verify_cli()
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    assert result.output.startswith("ledger INVALID at seq 0: Delta commit file 00000000000000000010.json is missing")
    assert "entries from seq 10 on" in result.output and "Traceback" not in result.output


def test_verify_of_a_prod_table_says_not_a_ledger_without_printing_rows():
    import pyarrow as pa
    from deltalake import write_deltalake

    uri = hurricane_paths().table_uri("prod", "payments", "cards")
    cards = ["4539578763621486", "5425233430109903", "4916338506082832"]
    write_deltalake(uri, pa.table({"customer_id": ["C-0001", "C-0002", "C-0003"], "card_number": cards, "seq": [1, 2, 3]}))
    result = verify_cli("--uri", uri)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"error: {uri} is not a ledger")
    assert not [v for v in [*cards, "C-0001"] if v in result.output]


def test_empty_ledger_with_witness_copies_is_a_deleted_ledger(story_ledger):
    shutil.rmtree(attacker.ledger_dir())
    result = verify_ledger()
    assert not result.ok and "ledger is empty but witness customers has cosigned" in result.problem
