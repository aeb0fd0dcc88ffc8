"""The join-match-rate check: a share whose tokens no longer find the consumer's rows fails loudly."""

from __future__ import annotations

import dagster as dg
import pytest

from hurricane_assets.delivery.join_match import join_match_rate
from hurricane_assets.exchange.run_platform import RunPlatform
from hurricane_assets.exchange.shares import JOIN_MATCH_CHECK, build_share_asset
from hurricane_assets.masking.keys import MissingMaskingKeyError, init_masking_keys
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import MaskingMethod
from tests.hurricane_assets.conftest import AS_OF
from tests.hurricane_assets.delivery.test_deliver import run, signed
from tests.hurricane_assets.share_terms import fraud_terms


def profiles_terms():
    # the longest retention the customers' policy allows: a profile not updated within it leaves the share
    return fraud_terms(producer="customers", dataset="profiles", retention_days=180,
                       columns={"customer_id": MaskingMethod.tokenize, "account_opened_at": MaskingMethod.generalize})


@pytest.fixture
def at_world_end(monkeypatch):
    """The calm world's data ends on its `as_of`: deliver then, so its rows are inside the retention."""
    monkeypatch.setenv("HURRICANE_NOW", AS_OF.isoformat())


def check_of(result) -> dg.AssetCheckEvaluation:
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == JOIN_MATCH_CHECK]
    assert len(evaluations) == 1  # beside it, the share's measured-privacy checks
    return evaluations[0]


def test_a_recreated_masking_key_makes_the_share_fail_its_join_check(share_parts, install_world, at_world_end):
    install_world("calm")
    contract = signed(share_parts, profiles_terms())
    run(share_parts, contract)
    match = join_match_rate(contract, share_parts["catalog"])
    assert match.passed and match.rate == match.expected_rate == 1.0 and match.consumer_table == "risk.alerts@preprod"
    assert (match.entity, match.share_column, match.consumer_column) == ("customer", "customer_id", "customer_id")

    with dg.instance_for_test() as instance:
        result = dg.materialize([build_share_asset(contract)], instance=instance, raise_on_error=False,
                                resources={"exchange": RunPlatform()})
        assert result.success and check_of(result).passed

        # the key is lost: deliveries stop instead of minting new tokens ...
        (hurricane_paths().keys / "masking-preprod.key").unlink()
        with pytest.raises(MissingMaskingKeyError, match="preprod already holds"):
            run(share_parts, contract)
        # ... and when someone creates a new one anyway, the share no longer joins: the check says so
        init_masking_keys(("preprod",), rotate=True)
        result = dg.materialize([build_share_asset(contract)], instance=instance, raise_on_error=False,
                                resources={"exchange": RunPlatform()})
        evaluation = check_of(result)
        assert not evaluation.passed and evaluation.severity is dg.AssetCheckSeverity.ERROR
        assert "0 of" in evaluation.description and "risk.alerts@preprod" in evaluation.description
        assert evaluation.metadata["hurricane/join_match_rate"].value == 0.0
    assert join_match_rate(contract, share_parts["catalog"]).rate == 0.0


def test_a_sparse_share_is_judged_against_what_prod_itself_matches(share_parts, install_world, at_world_end):
    install_world("calm")
    tickets = fraud_terms(producer="support", dataset="tickets",
                          columns={"customer_id": MaskingMethod.tokenize, "category": MaskingMethod.none})
    contract = signed(share_parts, tickets)
    run(share_parts, contract)
    match = join_match_rate(contract, share_parts["catalog"])
    # few customers file tickets: a low rate, but exactly the one the unmasked prod tables give
    assert match.rate < 0.9 and match.rate == match.expected_rate and match.passed


def test_without_a_consumer_table_the_check_warns_instead_of_passing(share_parts, share_prod_tables):
    contract = signed(share_parts, profiles_terms())
    run(share_parts, contract)
    match = join_match_rate(contract, share_parts["catalog"])
    assert not match.measured and not match.passed and "exists yet" in match.describe()


def test_the_prod_reference_applies_the_share_s_row_filter_on_columns_it_does_not_share(
        share_parts, install_world, at_world_end):
    """The reference reads only the columns it needs: the row filter's (not shared) must be among them."""
    from negotiation_graph.terms import Predicate, RowFilter

    install_world("calm")
    tickets = fraud_terms(producer="support", dataset="tickets",
                          columns={"customer_id": MaskingMethod.tokenize},
                          row_filter=RowFilter(all_of=(Predicate(column="category", op="in",
                                                                 values=("card_issue", "payment_dispute", "login_problem")),)))
    contract = signed(share_parts, tickets)
    run(share_parts, contract)
    match = join_match_rate(contract, share_parts["catalog"])
    unfiltered = join_match_rate(signed(share_parts, fraud_terms(producer="support", dataset="tickets",
                                                                   columns={"customer_id": MaskingMethod.tokenize})),
                                 share_parts["catalog"])
    assert match.measured and match.passed and match.rate == match.expected_rate
    assert match.expected_rate < unfiltered.expected_rate  # the filter did narrow the reference


def test_the_row_filter_names_the_columns_it_reads():
    from hurricane_assets.delivery.row_filter import row_filter_columns
    from negotiation_graph.terms import Predicate, RowFilter

    assert row_filter_columns(RowFilter(), event_time="ts", keys=("id",)) == ()
    assert row_filter_columns(RowFilter(all_of=(Predicate(column="country", op="eq", values=("NL",)),), since_days=7,
                                        sample_fraction=0.5), event_time="ts", keys=("id",)) == ("country", "ts", "id")


def test_a_consumer_table_is_read_once_per_version_and_again_after_a_write(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake
    from deltalake.exceptions import TableNotFoundError

    from hurricane_assets.delivery.join_match import ConsumerKeys

    uri = str(tmp_path / "alerts")
    write_deltalake(uri, pa.table({"customer_id": ["c1", "c2", "c1", None]}))
    keys = ConsumerKeys()
    first = keys(uri, "customer_id")
    assert sorted(first.to_pylist()) == ["c1", "c2"]  # distinct, no null
    assert keys(uri, "customer_id") is first  # the run's second share reuses the read
    write_deltalake(uri, pa.table({"customer_id": ["c3"]}), mode="append")
    assert sorted(keys(uri, "customer_id").to_pylist()) == ["c1", "c2", "c3"]  # a new version is read again
    with pytest.raises(TableNotFoundError):
        keys(str(tmp_path / "missing"), "customer_id")


def test_every_share_of_a_run_is_measured_against_the_consumer_tables_once(share_parts, install_world, at_world_end,
                                                                           monkeypatch):
    from hurricane_assets.delivery.join_match import ConsumerKeys

    install_world("calm")
    contracts = [signed(share_parts, profiles_terms()),
                 signed(share_parts, fraud_terms(producer="support", dataset="tickets",
                                                 columns={"customer_id": MaskingMethod.tokenize}))]
    for contract in contracts:
        run(share_parts, contract)
    reads = []
    read = ConsumerKeys.__call__
    monkeypatch.setattr(ConsumerKeys, "__call__", lambda self, uri, column: reads.append((uri, column)) or read(self, uri, column))
    keys = ConsumerKeys()
    alone = [join_match_rate(c, share_parts["catalog"]) for c in contracts]
    together = [join_match_rate(c, share_parts["catalog"], consumer_keys=keys) for c in contracts]
    assert together == alone  # the same measure, whether the reads are shared or not
    assert len(keys._distinct) == 2 < len(reads)  # risk.alerts in preprod and in prod, each read once


def test_two_threads_asking_for_the_same_consumer_table_read_it_once(tmp_path, monkeypatch):
    """The prod reference runs on a second thread; for a prod share both threads want the consumer's
    prod table: the second waits on the first's lock for that table and then finds its read."""
    import threading
    from types import SimpleNamespace

    import pyarrow as pa
    from deltalake import write_deltalake

    import hurricane_assets.delivery.join_match as join_match

    uri = str(tmp_path / "alerts")
    write_deltalake(uri, pa.table({"customer_id": ["c1", "c2", "c1"]}))
    first_inside, second_at_lock, release = threading.Event(), threading.Event(), threading.Event()
    hashed, entered = [], []
    unique = join_match.pc.unique

    class SeenLock:  # a real lock that records who is about to take it
        def __init__(self):
            self._lock = threading.Lock()

        def __enter__(self):
            entered.append(self)
            if len(entered) == 2:
                second_at_lock.set()
            return self._lock.__enter__()

        def __exit__(self, *exc):
            return self._lock.__exit__(*exc)

    def held_unique(values):
        hashed.append(values)
        if len(hashed) == 1:
            first_inside.set()
            release.wait()  # never timed: timed waits do not hold under a faked clock
        return unique(values)

    monkeypatch.setattr(join_match, "threading", SimpleNamespace(Lock=SeenLock))
    monkeypatch.setattr(join_match.pc, "unique", held_unique)
    keys, results = join_match.ConsumerKeys(), []
    threads = [threading.Thread(target=lambda: results.append(keys(uri, "customer_id")), daemon=True) for _ in range(2)]
    try:
        threads[0].start()
        first_inside.wait()  # the first reader is hashing the table, holding its lock
        threads[1].start()
        second_at_lock.wait()
        assert entered[0] is entered[1]  # the second reader waits on that same lock
    finally:
        release.set()
    for thread in threads:
        thread.join()
    assert len(hashed) == 1 and len(results) == 2 and results[0] is results[1]


@pytest.mark.parametrize("streamed", [False, True], ids=["in_memory", "streamed"])
def test_the_share_check_takes_its_prod_reference_from_the_rows_the_delivery_held(
        share_parts, install_world, at_world_end, monkeypatch, streamed):
    """An in-memory delivery already holds its rows' prod keys: the check reads the producer's table no
    second time, and gets the reference a re-read gives (row filter and retention applied the same). A
    streamed share keeps no keys (they would all be in memory at once): its check reads prod again."""
    import hurricane_assets.delivery.join_match as join_match
    from negotiation_graph.terms import Predicate, RowFilter

    install_world("calm")
    if streamed:
        monkeypatch.setenv("HURRICANE_STREAM_ROWS", "0")
    tickets = fraud_terms(producer="support", dataset="tickets", columns={"customer_id": MaskingMethod.tokenize},
                          row_filter=RowFilter(all_of=(Predicate(column="category", op="in",
                                                                 values=("card_issue", "payment_dispute")),)))
    contract = signed(share_parts, tickets)
    delivery = run(share_parts, contract)
    assert (delivery.join_keys is None) == streamed
    reread = join_match_rate(contract, share_parts["catalog"])
    assert 0 < reread.expected_rate < 1

    reads, read_table = [], join_match.read_table
    monkeypatch.setattr(join_match, "read_table", lambda uri, **kw: reads.append(uri) or read_table(uri, **kw))
    with dg.instance_for_test() as instance:
        result = dg.materialize([build_share_asset(contract)], instance=instance, raise_on_error=False,
                                resources={"exchange": RunPlatform()})
    evaluation = check_of(result)
    measured = evaluation.metadata["hurricane/join_match"].value
    assert evaluation.passed and measured["expected_rate"] == reread.expected_rate
    producer_prod = hurricane_paths().table_uri("prod", "support", "tickets")
    assert reads == [contract.share_uri, *([producer_prod] if streamed else [])]  # the share itself is read back



def test_the_check_reads_the_share_where_the_delivery_wrote_it_after_the_home_moved(
        share_parts, install_world, at_world_end):
    """A contract signed while the home was elsewhere still names the old path (its tail is checked,
    not its prefix): the delivery writes where settings say, and the check must read there too."""
    install_world("calm")
    contract = signed(share_parts, profiles_terms())
    run(share_parts, contract)
    signed_elsewhere = contract.model_copy(update={"share_uri": "/old-home/envs/preprod/risk/customers__profiles"})
    match = join_match_rate(signed_elsewhere, share_parts["catalog"])
    assert match.passed and match == join_match_rate(contract, share_parts["catalog"])
