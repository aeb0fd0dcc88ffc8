"""`hurricane erasure` against the real register and ledger of the test's HURRICANE_HOME."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.ledger import Ledger
from hurricane_assets.masking.erasure import load_erasures
from hurricane_assets.settings import hurricane_paths

runner = CliRunner()
SUBJECT = "cust_0004711"


def test_a_request_read_from_stdin_is_recorded_and_never_printed():
    made = runner.invoke(app, ["erasure", "request", "customer", "-", "--reason", "GDPR art. 17 request 118"],
                         input=SUBJECT + "\n")
    assert made.exit_code == 0, made.output
    request_id = made.stdout.split()[0]
    assert request_id.startswith("erasure-") and SUBJECT not in made.output
    assert load_erasures().subjects == {"customer": frozenset({SUBJECT})}
    (entry,) = [e for e in Ledger().read().to_pylist() if e["entry_type"] == "ERASURE"]
    assert entry["entry_id"] == request_id and SUBJECT not in entry["payload_json"]
    assert json.loads(entry["payload_json"])["stage"] == "requested"

    again = runner.invoke(app, ["erasure", "request", "customer", SUBJECT, "--reason", "asked twice"])
    assert again.exit_code == 0 and again.stdout.split()[0] == request_id  # the first request, not a second

    listed = runner.invoke(app, ["erasure", "list"])
    assert listed.exit_code == 0 and request_id in listed.stdout and "GDPR art. 17 request 118" in listed.stdout
    assert SUBJECT not in listed.stdout


def test_an_empty_register_lists_nothing():
    listed = runner.invoke(app, ["erasure", "list"])
    assert listed.exit_code == 0 and "no erasure requests" in listed.stdout


def test_bad_requests_exit_2_with_one_line_naming_the_field_and_record_nothing():
    for args, stdin, message in (
            (["customers", SUBJECT], None, "field 'entity' is not an entity any column refers to"),
            ([SUBJECT, "customer"], None, "field 'entity' is not an entity"),  # swapped: the id is not echoed
            (["customer", "-"], " cust_0004711\n", "field 'subject' has leading or trailing whitespace"),
            (["customer", "-"], "\n", "field 'subject' must be a non-empty string"),
            (["customer", "-"], "\ufeffcust_0004711\r\n", "field 'subject' holds a control, invisible or space"),
            (["customer", "-"], "cust_\u200b0004711", "field 'subject' holds a control, invisible or space"),
            (["customer", "-"], "cust_0004711\tx", "field 'subject' holds a control, invisible or space"),
            (["customer", "-"], "cust_0004711\ncust_0004712\n", "field 'subject' (stdin) must be one id on one line"),
            (["customer", "-"], b"cust_0004711\xe9\n", "field 'subject' (stdin) is not valid UTF-8"),
            (["customer", SUBJECT, "--reason", "  "], None, "field 'reason' must be a non-empty string"),
            (["customer", SUBJECT, "--reason", f"asked by {SUBJECT}"], None, "without the person's id"),
            (["customer", SUBJECT, "--reason", "line\nbreak"], None, "one line of text without control characters")):
        result = runner.invoke(app, ["erasure", "request", *args, *([] if "--reason" in args else ["--reason", "x"])],
                               input=stdin)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert SUBJECT not in result.stderr
    assert not load_erasures() and len(Ledger()) == 0


def test_without_a_trust_root_the_request_fails_before_anything_is_written():
    shutil.rmtree(hurricane_paths().home / "trust")
    result = runner.invoke(app, ["erasure", "request", "customer", SUBJECT, "--reason", "GDPR art. 17"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.output
    assert not load_erasures()


def test_status_shows_each_copy_pending_until_its_next_run_then_applied():
    import pyarrow as pa
    from deltalake import write_deltalake

    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.catalog.schema import arrow_schema
    from hurricane_assets.ledger.entry import EntryType
    from hurricane_assets.masking.copy import copy_masked
    from hurricane_assets.synthetic import SyntheticConfig, generate_dataset

    catalog = load_catalog()
    frame = generate_dataset(SyntheticConfig(transactions=2000, seed=7), "payments", "chargebacks")
    write_deltalake(hurricane_paths().table_uri("prod", "payments", "chargebacks"),
                    pa.Table.from_pandas(frame, schema=arrow_schema(catalog.dataset("payments", "chargebacks")),
                                         preserve_index=False))
    copy_masked(catalog, "payments", "chargebacks", "preprod")
    subject = str(frame["customer_id"].iloc[0])
    made = runner.invoke(app, ["erasure", "request", "customer", "-", "--reason", "GDPR art. 17"], input=subject)
    request_id = made.stdout.split()[0]

    pending = runner.invoke(app, ["erasure", "status", request_id])
    assert pending.exit_code == 1, pending.output
    assert "copy\tpreprod/payments/chargebacks\tpending" in pending.stdout
    assert "0 of 1 copies applied it, 0 share deliveries" in pending.stdout

    copy_masked(catalog, "payments", "chargebacks", "preprod")
    Ledger().append(entry_type=EntryType.ERASURE, actor="agent:payments/producer", contract_id="ctr-1",
                    payload={"stage": "applied", "request_id": request_id, "share_uri": "envs/preprod/risk/x",
                             "table_version": 3, "rows_removed": 2}, entry_id=f"ctr-1.erasure.{request_id}")
    applied = runner.invoke(app, ["erasure", "status", request_id])
    assert applied.exit_code == 0, applied.output
    assert "copy\tpreprod/payments/chargebacks\tapplied" in applied.stdout
    assert "share\tctr-1\tenvs/preprod/risk/x\tversion 3\t2 row(s) removed" in applied.stdout
    assert subject not in applied.stdout + pending.stdout

    # a copy whose report is gone cannot say: not counted as applied (it lists the tables that exist)
    (Path(hurricane_paths().table_uri("preprod", "payments", "chargebacks")) / "_privacy_report.json").unlink()
    blind = runner.invoke(app, ["erasure", "status", request_id])
    assert blind.exit_code == 1 and "preprod/payments/chargebacks\tunknown (no readable privacy report)" in blind.stdout

    unknown = runner.invoke(app, ["erasure", "status", "erasure-nope"])
    assert unknown.exit_code == 2 and "no erasure request 'erasure-nope' in the register (1 request(s))" in unknown.stderr


def test_a_request_id_already_taken_is_refused_and_the_first_person_stays_erased():
    """Through the Python API a caller picks the request id: reusing one must not touch the first
    request (the withdrawal after a failed ledger append once deleted it by id)."""
    from hurricane_assets.clock import utc_now
    from hurricane_assets.masking.erasure import ErasureError, request_erasure

    request_erasure("customer", "cust_A", reason="GDPR 1", ledger=Ledger(), now=utc_now(), request_id="erasure-2026-118")
    for taken in ("erasure-2026-118", "bad id'"):
        try:
            request_erasure("customer", "cust_B", reason="GDPR 2", ledger=Ledger(), now=utc_now(), request_id=taken)
        except ErasureError as exc:
            assert "field 'request_id'" in str(exc) and "cust_B" not in str(exc)
        else:
            raise AssertionError(f"request id {taken!r} accepted")
    assert load_erasures().subjects == {"customer": frozenset({"cust_A"})}


def test_a_ledger_that_commits_then_fails_keeps_the_register_row():
    """The entry is in the ledger though the append raised (a witness copy failed after the commit):
    the request stands, so copies apply what the ledger says was requested."""
    from hurricane_assets.clock import utc_now
    from hurricane_assets.masking.erasure import request_erasure

    class CommitsThenFails(Ledger):
        def append(self, *args, **kwargs):
            super().append(*args, **kwargs)
            raise OSError("witness copy could not be written")

    try:
        request_erasure("customer", SUBJECT, reason="GDPR", ledger=CommitsThenFails(), now=utc_now())
    except OSError:
        pass
    assert load_erasures().subjects == {"customer": frozenset({SUBJECT})}
    assert [e["entry_type"] for e in Ledger().read().to_pylist()] == ["ERASURE"]
