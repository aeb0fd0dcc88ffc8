"""`hurricane erasure` against the real register and ledger of the test's HURRICANE_HOME."""

from __future__ import annotations

import json
import shutil

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
            (["customers", SUBJECT], None, "field 'entity': 'customers' is not an entity any column refers to"),
            (["customer", "-"], " cust_0004711\n", "field 'subject' has leading or trailing whitespace"),
            (["customer", "-"], "\n", "field 'subject' must be a non-empty string"),
            (["customer", SUBJECT, "--reason", "  "], None, "field 'reason' must be a non-empty string")):
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
