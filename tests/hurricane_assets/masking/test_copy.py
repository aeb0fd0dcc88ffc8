"""Acceptance of issue 3: masked copies of every dataset hold no prod PII, keep joins, and fail closed."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from hurricane_assets.masking.checksums import luhn_valid
from hurricane_assets.masking.copy import REPORT_NAME, copy_masked
from hurricane_assets.masking.engine import SchemaDriftError
from hurricane_assets.masking.freetext.gazetteer import PARTICLES
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.operators.contact import in_fiction_range
from hurricane_assets.masking.operators.financial import iban_valid
from hurricane_assets.masking.plans import ColumnRule, PlanError, default_plan
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table, table_exists
from hurricane_assets.synthetic import messages
from hurricane_assets.synthetic.marketing import labelled_notes
from hurricane_assets.synthetic.support import labelled_tickets
from tests.hurricane_assets.masking.conftest import WORLD

LOWER = ("preprod", "dev")
EMAIL_SYNTAX = re.compile(r"^[a-z0-9]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
SEPARATORS = re.compile(r"[\s().\-/]")


def copy_everything(catalog, world) -> dict[tuple[str, str, str], object]:
    reports = {}
    for domain, dataset in world:
        for env in catalog.dataset(domain, dataset).allowed_environments:
            if env in LOWER:
                reports[(env, domain, dataset)] = copy_masked(catalog, domain, dataset, env)
    return reports


def prod_pii(world) -> tuple[set[str], set[str]]:
    """(values that must not occur as text, digit strings that must not occur once separators are removed)."""
    profiles = world[("customers", "profiles")].to_pydict()
    txns = world[("payments", "transactions")].to_pydict()
    text = set(profiles["full_name"]) | set(profiles["email"]) | set(profiles["phone"]) | set(profiles["national_id"])
    text |= set(profiles["iban"]) | set(profiles["customer_id"]) | set(txns["card_number"]) | set(txns["device_id"])
    text |= {ip for ip in txns["ip_address"] if ip}
    # A birth year band is 1 January; a real birthday on 1 January is not a leak of anything more.
    text |= {d.isoformat() for d in profiles["date_of_birth"] if d and (d.month, d.day) != (1, 1)}
    digits = {phonenumbers.national_significant_number(phonenumbers.parse(p)) for p in profiles["phone"]}
    digits |= set(txns["card_number"])
    return {v for v in text if v}, digits


def template_words() -> set[str]:
    """Words the generator's templates write themselves: a surname equal to one of them is no leak."""
    words: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, str):
            words.update(w.casefold() for w in re.findall(r"[^\W\d_]+", value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for name in dir(messages):
        if name.isupper():
            walk(getattr(messages, name))
    return words


def lower_env_column(env: str, domain: str, dataset: str, column: str) -> list:
    return read_table(hurricane_paths().table_uri(env, domain, dataset)).column(column).to_pylist()


def decoded_text(path: Path) -> str:
    table = pq.read_table(path)
    cells = []
    for column in table.columns:
        cells.extend(str(v) for v in column.to_pylist() if v is not None)
        if pa.types.is_date(column.type):
            cells.extend(v.isoformat() for v in column.to_pylist() if v is not None)
    return "\n".join(cells)


def test_no_prod_pii_in_any_file_of_lower_environments(catalog, prod_world):
    reports = copy_everything(catalog, prod_world)
    assert {(d, ds) for _, d, ds in reports} == set(prod_world)
    values, digit_runs = prod_pii(prod_world)
    folded = {v.casefold() for v in values}
    files = [p for env in LOWER for p in Path(hurricane_paths().env_root(env)).rglob("*") if p.is_file()]
    assert len([f for f in files if f.suffix == ".parquet"]) >= len(reports)
    for path in files:
        blob = path.read_bytes()
        texts = [blob.decode("utf-8", "replace")]
        if path.suffix == ".parquet":
            texts.append(decoded_text(path))
        for text in texts:
            lowered = text.casefold()
            leaked = [v for v in folded if v in lowered]
            assert not leaked, f"{path}: prod values found: {leaked[:5]}"
            compact = SEPARATORS.sub("", text)
            leaked = [d for d in digit_runs if d in compact]
            assert not leaked, f"{path}: prod phone/card digits found: {leaked[:5]}"
        assert "cust_" not in texts[-1], f"{path}: a raw customer id survived"


def test_no_labelled_span_or_prod_surname_in_free_text_below_prod(catalog, prod_world, monkeypatch):
    """Issue 11: the copy test looked only for whole full names. Every span the generator labelled in a
    prod ticket or campaign note must be gone from that row below prod, and no word of any prod
    customer's name (beyond particles and the templates' own words) may appear in any lower file.

    Fixed masking keys: a keyed fake can contain a short labelled value by chance ("Ilias" inside the
    fake surname "Runilias": 1 of 200 random keys on this world; CI once found a card's last four
    digits in a masked ticket of the world of that hour), which this scan cannot tell from a leak;
    with fixed keys and a fixed world the outcome is the same on every run."""
    for env in LOWER:
        monkeypatch.setenv(f"HURRICANE_MASKING_KEY_{env.upper()}", hashlib.sha256(env.encode()).hexdigest())
    copy_everything(catalog, prod_world)
    tickets, notes = labelled_tickets(WORLD.resolved()), labelled_notes(WORLD.resolved())
    assert [t.text for t in tickets] == prod_world[("support", "tickets")].column("body").to_pylist()
    for env in LOWER:
        bodies = lower_env_column(env, "support", "tickets", "body")
        assert len(bodies) == len(tickets)
        for message, masked in zip(tickets, bodies):
            leaked = [v for v in message.values() if v.casefold() in masked.casefold()]
            assert not leaked, f"{env} support.tickets: labelled spans kept: {leaked}"
        masked_notes = lower_env_column(env, "marketing", "web_sessions", "campaign_notes")
        for row, message in notes.items():
            leaked = [v for v in message.values() if v.casefold() in masked_notes[row].casefold()]
            assert not leaked, f"{env} marketing.web_sessions row {row}: labelled spans kept: {leaked}"
    ignore = template_words() | PARTICLES
    tokens = {w.casefold() for name in prod_world[("customers", "profiles")].column("full_name").to_pylist()
              for w in re.findall(r"[^\W\d_]+", name) if len(w) >= 3} - ignore
    # Whole words only: "_" joins a word too, so a column named `hour_of_day` is not the surname Day;
    # so do digits, so a random base32 or base64 token ("x7dan2…") is not the first name Dan (the
    # test failed once on "dan" in preprod customers.profiles, a table of tokens and fakes with no
    # free text, under a fresh masking key; prod values glued to digits are the exact-value scan's).
    pattern = re.compile(r"(?<!\w)(" + "|".join(sorted(map(re.escape, tokens))) + r")(?!\w)")
    for path in (p for env in LOWER for p in Path(hurricane_paths().env_root(env)).rglob("*.parquet")):
        found = sorted(set(pattern.findall(decoded_text(path).casefold())))
        assert not found, f"{path}: prod name words found: {found[:10]}"


def test_joins_survive_determinism_and_per_env_keys(catalog, prod_world):
    for env in LOWER:
        for domain, dataset in (("customers", "profiles"), ("payments", "transactions")):
            copy_masked(catalog, domain, dataset, env)
    uri = hurricane_paths().table_uri
    prod_join = prod_world[("payments", "transactions")].join(prod_world[("customers", "profiles")], "customer_id")
    pre_txn, pre_prof = read_table(uri("preprod", "payments", "transactions")), read_table(uri("preprod", "customers", "profiles"))
    assert pre_txn.join(pre_prof, "customer_id").num_rows == prod_join.num_rows == pre_txn.num_rows

    first_version = DeltaTable(uri("preprod", "payments", "transactions")).version()
    again = copy_masked(catalog, "payments", "transactions", "preprod")
    assert read_table(uri("preprod", "payments", "transactions")).equals(pre_txn)
    # a new version, and (no history below prod) the only one left
    assert again.target_version == DeltaTable(uri("preprod", "payments", "transactions")).version() > first_version

    dev_ids = set(read_table(uri("dev", "payments", "transactions")).column("customer_id").to_pylist())
    assert not dev_ids & set(pre_txn.column("customer_id").to_pylist())


def test_masked_values_pass_the_originals_validators(catalog, prod_world):
    spec = catalog.dataset("customers", "profiles")
    base = default_plan(spec, "preprod", name="customers.profiles")
    # A plan that keeps the restricted fields format-preserving, to validate those operators end to end.
    rules = {**base.rules, "iban": ColumnRule(operator="iban", params={"entity": "iban"}),
             "full_name": ColumnRule(operator="fake_name", params={"entity": "person"})}
    plan = base.model_copy(update={"rules": rules})
    copy_masked(catalog, "customers", "profiles", "preprod", plan=plan)
    masked = read_table(hurricane_paths().table_uri("preprod", "customers", "profiles")).to_pydict()
    raw = prod_world[("customers", "profiles")].to_pydict()
    assert all(EMAIL_SYNTAX.match(e) for e in masked["email"] if e)
    for before, after in zip(raw["phone"], masked["phone"]):
        b, a = phonenumbers.parse(before), phonenumbers.parse(after)
        assert a.country_code == b.country_code and len(after) == len(before)
        assert phonenumbers.is_valid_number(a) or in_fiction_range(after) or not phonenumbers.is_valid_number(b)
    assert all(iban_valid(i) for i in masked["iban"]) and not set(masked["iban"]) & set(raw["iban"])

    txn = catalog.dataset("payments", "transactions")
    tplan = default_plan(txn, "dev", name="payments.transactions")
    tplan = tplan.model_copy(update={"rules": {**tplan.rules, "card_number": ColumnRule(operator="credit_card")}})
    copy_masked(catalog, "payments", "transactions", "dev", plan=tplan)
    cards = read_table(hurricane_paths().table_uri("dev", "payments", "transactions")).column("card_number").to_pylist()
    assert all(luhn_valid(c) and len(c) == 16 for c in cards)


def test_privacy_report_is_written_next_to_the_table_without_the_key(catalog, prod_world):
    report = copy_masked(catalog, "customers", "profiles", "dev")
    path = Path(hurricane_paths().table_uri("dev", "customers", "profiles")) / REPORT_NAME
    stored = json.loads(path.read_text())
    assert stored == report.to_dict()
    secret = Keyring.load("dev").key.secret
    assert secret.hex() not in path.read_text() and stored["key_id"] == Keyring.load("dev").key_id
    assert report.column("national_id").status == "dropped" and report.column("email").key_id == report.key_id
    assert report.column("segment").status == "kept" and report.at_risk == []
    assert report.k_anonymity["satisfied"] and report.k_anonymity["quasi_identifiers"] == [
        "date_of_birth", "postcode", "country", "account_opened_at", "updated_at"]


def test_drift_fails_closed_and_keeps_the_previous_version(catalog, prod_world):
    copy_masked(catalog, "payments", "chargebacks", "preprod")
    target = hurricane_paths().table_uri("preprod", "payments", "chargebacks")
    before = read_table(target)
    prod_uri = hurricane_paths().table_uri("prod", "payments", "chargebacks")
    drifted = prod_world[("payments", "chargebacks")].append_column("agent_notes", pa.array(["x"] * prod_world[("payments", "chargebacks")].num_rows))
    write_deltalake(prod_uri, drifted, mode="overwrite", schema_mode="overwrite")
    with pytest.raises(SchemaDriftError, match="columns not in the manifest: agent_notes"):
        copy_masked(catalog, "payments", "chargebacks", "preprod")
    assert read_table(target).equals(before)
    with pytest.raises(SchemaDriftError):
        copy_masked(catalog, "support", "tickets", "preprod",
                    source_uri=prod_uri)
    assert not table_exists(hurricane_paths().table_uri("preprod", "support", "tickets"))


def test_copies_are_for_allowed_lower_environments_only(catalog, prod_world):
    with pytest.raises(PlanError, match="lower environments only"):
        copy_masked(catalog, "customers", "profiles", "prod")
    with pytest.raises(PlanError, match="payments.chargebacks may not be copied to dev"):
        copy_masked(catalog, "payments", "chargebacks", "dev")
    assert not table_exists(hurricane_paths().table_uri("dev", "payments", "chargebacks"))
