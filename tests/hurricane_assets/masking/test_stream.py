"""Tables larger than memory (issue 13 item 5): the streamed masked copy, in tiny batches, equals the
in-memory one row for row and report for report, with bounded batches and a bounded value cache."""

from __future__ import annotations

import pyarrow as pa
import pytest

from hurricane_assets.masking import stream
from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.masking.engine import TokenCollisionError
from hurricane_assets.masking.kanonymity import KAnonymityError
from hurricane_assets.masking.plans import default_plan
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import open_table, read_table, table_exists

LOWER = ("preprod", "dev")
TINY = 97  # rows per batch: many batches, none aligned with anything in the data


def comparable(report) -> dict:
    out = report.to_dict()
    for volatile in ("created_at", "target_uri", "target_version"):
        out.pop(volatile)
    return out


def rows_of(table: pa.Table) -> list[str]:
    return sorted(repr(row) for row in zip(*(table.column(c).to_pylist() for c in table.column_names)))


@pytest.fixture
def streaming(monkeypatch):
    def on(batch: int = TINY, cache: int = 50) -> None:
        monkeypatch.setenv("HURRICANE_STREAM_ROWS", "0")
        monkeypatch.setenv("HURRICANE_STREAM_BATCH_ROWS", str(batch))
        monkeypatch.setenv("HURRICANE_STREAM_CACHE_VALUES", str(cache))
    return on


def test_streamed_copies_equal_in_memory_copies(prod_world, catalog, streaming, monkeypatch):
    """Every dataset of the world (tokens, fakes that avoid the column's prod values, free text with
    row values, quantile buckets, k in persons with suppression, measured privacy) in 97-row batches
    with a 50-value cache: the same rows, the same report. Catches a per-batch quantile edge, a
    per-batch k-anonymity count, a cache returning another value's token, a lost or reordered batch."""
    in_memory = {}
    for domain, dataset in prod_world:
        for env in catalog.dataset(domain, dataset).allowed_environments:
            if env in LOWER:
                in_memory[(env, domain, dataset)] = copy_masked(catalog, domain, dataset, env)
    streaming()
    seen = []
    original = stream.mask_stream

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr("hurricane_assets.masking.copy.mask_stream", spy)
    for (env, domain, dataset), expected in in_memory.items():
        target = hurricane_paths().table_uri(env, domain, dataset) + "_streamed"
        report = copy_masked(catalog, domain, dataset, env, target_uri=target)
        got, want = read_table(target), read_table(expected.target_uri)
        assert got.schema == want.schema, f"{env} {domain}.{dataset}"
        # a Delta table has no row order, and delta-rs writes a stream's batches in parallel
        assert rows_of(got) == rows_of(want), f"{env} {domain}.{dataset}"
        assert comparable(report) == comparable(expected), f"{env} {domain}.{dataset}"
        assert len(open_table(target).history()) >= 1 and report.target_version is not None
    assert len(seen) == len(in_memory)
    # the two-event risk is measured on the streamed gate too, where persons have several rows
    two_events = [r.measured["values"]["two_event_singling_out_risk"] for r in in_memory.values() if r.measured]
    assert any(v is not None and v > 0 for v in two_events)
    assert max(s.largest_batch for s in seen) <= TINY
    # operators with a whole-column path (tokens, emails, phones, IBANs, names) mask each batch at once;
    # the per-value cache serves the others, and never holds more than its bound
    caches = [s.cache_stats for s in seen if s.cache_stats]
    assert all(c["held"] <= 50 for stats in caches for c in stats.values())


def test_a_failing_gate_writes_nothing_when_streaming(prod_world, catalog, streaming):
    streaming()
    with pytest.raises(KAnonymityError):
        copy_masked(catalog, "payments", "transactions", "preprod", k=10_000)
    assert not table_exists(hurricane_paths().table_uri("preprod", "payments", "transactions"))


def test_a_token_collision_found_after_the_last_batch_commits_nothing(prod_world, catalog, streaming):
    """The collision check needs every batch; it raises inside the reader, before the one commit."""
    spec = catalog.dataset("payments", "transactions")
    copy_masked(catalog, "payments", "transactions", "preprod")
    uri = hurricane_paths().table_uri("preprod", "payments", "transactions")
    before = open_table(uri).version(), read_table(uri)
    plan = default_plan(spec, "preprod", name="payments.transactions")
    # a 3-character prefix of a unique key: collisions across batches are certain
    rules = {**plan.rules, "txn_id": plan.rules["txn_id"].model_copy(
        update={"unique": True, "operator": "prefix", "params": {"length": 3}})}
    streaming()
    with pytest.raises(TokenCollisionError, match="txn_id"):
        copy_masked(catalog, "payments", "transactions", "preprod", plan=plan.model_copy(update={"rules": rules}))
    assert open_table(uri).version() == before[0] and read_table(uri).equals(before[1])


def test_the_value_cache_is_bounded_and_least_recently_used_goes_first():
    cache = stream.ValueCache(2)
    cache.store(["a", "b"], [1, 2])
    assert cache.lookup(["a"]) == ([1], [])  # a is now the most recent
    cache.store(["c"], [3])
    found, missing = cache.lookup(["a", "b", "c"])
    assert missing == [1] and found[0] == 1 and found[2] == 3 and len(cache) == 2


def test_stream_settings_are_checked(monkeypatch):
    monkeypatch.setenv("HURRICANE_STREAM_ROWS", "many")
    with pytest.raises(ValueError, match="HURRICANE_STREAM_ROWS must be a whole number"):
        stream.stream_rows()
    monkeypatch.setenv("HURRICANE_STREAM_ROWS", "-1")
    with pytest.raises(ValueError, match="HURRICANE_STREAM_ROWS must be at least 0 rows or values, not -1"):
        stream.stream_rows()


def test_distinct_counter_counts_across_batches():
    counter = stream.DistinctCounter()
    for part in (["a", "b", None], ["b", "c"], ["a"]):
        counter.add(pa.array(part))
    assert counter.count() == 3


def test_a_cache_that_never_hits_gives_up(monkeypatch):
    """A unique key misses every lookup: past USEFUL_AFTER values the column stops caching."""
    monkeypatch.setattr(stream, "USEFUL_AFTER", 10)
    cache = stream.ValueCache(100)
    for start in range(0, 40, 5):
        values = list(range(start, start + 5))
        cache.lookup(values)
        cache.store(values, values)
    assert not cache.useful and len(cache) == 0
    assert cache.lookup([1, 2]) == ([stream._MISSING] * 2, [0, 1])


@pytest.fixture
def tiny_buffers(monkeypatch):
    """The gate's pair buffer and the distinct-hash counters spill to disk after a few entries, so a
    small table goes through the path a 20M-row table takes; returns the pair counters made."""
    from hurricane_assets.masking import stream_gate

    monkeypatch.setattr(stream_gate.PairCounter, "LIMIT", 64)
    monkeypatch.setattr(stream.DistinctCounter, "LIMIT", 32)
    made = []
    original = stream_gate.PairCounter.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(stream_gate.PairCounter, "__init__", spy)
    return made


@pytest.mark.parametrize("k", [5, 40], ids=["suppresses", "generalises"])
def test_the_batch_gate_decides_as_mask_table_does(prod_world, catalog, streaming, tiny_buffers, monkeypatch, k):
    """payments.transactions streams without a whole-table pass (`stream_gate.py`): quantile edges
    from histograms, groups and persons counted over 97-row batches with the buffers spilled to disk,
    the ladder's passes; the same rows, the same k-anonymity outcome, measurement and QI report as
    `mask_table`. Catches a per-batch quantile, a group split across batches or spill files, a person
    counted twice, a sample drawn from other candidates, a suppression applied to other rows."""
    expected = copy_masked(catalog, "payments", "transactions", "preprod", k=k)
    streaming()
    whole_table = []
    monkeypatch.setattr(stream, "mask_table", lambda *a, **kw: whole_table.append(1))
    target = hurricane_paths().table_uri("preprod", "payments", "transactions") + "_streamed"
    report = copy_masked(catalog, "payments", "transactions", "preprod", k=k, target_uri=target)
    assert not whole_table  # the gate ran over batches only
    assert tiny_buffers and all(p.spilled for p in tiny_buffers)  # every count went through the disk
    assert rows_of(read_table(target)) == rows_of(read_table(expected.target_uri))
    assert comparable(report) == comparable(expected)
    actions = " ".join(report.k_anonymity["actions"])
    assert ("suppressed" if k == 5 else "generalised amount further to bucket{'quantiles': 5}") in actions
    assert report.measured["sample_persons"] > 0


def test_the_batch_gate_fails_closed_as_mask_table_does(prod_world, catalog, streaming, tiny_buffers):
    with pytest.raises(KAnonymityError) as in_memory:
        copy_masked(catalog, "payments", "transactions", "preprod", k=10_000)
    streaming()
    with pytest.raises(KAnonymityError) as streamed:
        copy_masked(catalog, "payments", "transactions", "preprod", k=10_000)
    assert streamed.value.outcome.to_dict() == in_memory.value.outcome.to_dict()
    assert str(streamed.value) == str(in_memory.value)


def test_counters_that_spill_count_exactly(tmp_path):
    """Distinct values and (group, person) pairs past their in-memory bound: the counts are exact and
    the spill files are removed."""
    from hurricane_assets.masking import stream_gate

    counter = stream.DistinctCounter(limit=10)
    for start in range(0, 500, 50):
        counter.add(pa.array([f"v{i}" for i in range(start, start + 100)] + [None]))  # overlapping batches
    assert counter.spilled and counter.count() == 550 and counter.count() == 550
    pairs = stream_gate.PairCounter(limit=16)
    rng = __import__("numpy").random.default_rng(0)
    groups, persons = rng.integers(0, 7, 3000), rng.integers(0, 200, 3000)
    for i in range(0, 3000, 100):
        pairs.add(groups[i:i + 100], persons[i:i + 100])
    assert pairs.spilled
    counted = sum(len(part) for part in pairs.parts())
    assert counted == len(set(zip(groups.tolist(), persons.tolist())))
    folder = pairs._folder.name
    pairs.close()
    assert not __import__("os").path.exists(folder)


def test_only_whole_column_operators_and_the_gate_columns_are_read_whole(catalog):
    """The whole-table pass holds the QIs (and the person column to count persons); token columns
    stream batch by batch (a fast `mask_distinct` once put every token column into the first pass)."""
    spec = catalog.dataset("payments", "transactions")
    plan = default_plan(spec, "preprod", name="payments.transactions")
    read, produced = stream.whole_table_columns(plan, list(plan.rules), spec.privacy)
    assert produced == {"amount", "event_ts"} and read == ["customer_id", "amount", "event_ts"]
    phones = catalog.dataset("customers", "profiles")
    phone_plan = default_plan(phones, "preprod", name="customers.profiles")
    assert "phone" in stream.whole_table_columns(phone_plan, list(phone_plan.rules), phones.privacy)[1]


@pytest.mark.parametrize("seed", range(4))
def test_batch_statistics_equal_arrows(seed):
    """Quantile edges from a histogram merged over batches, and distinct counts by sorting bits, equal
    Arrow's whole-column `quantile` ("lower") and `count_distinct` (NaN once, 0.0 and -0.0 apart)."""
    import numpy as np
    import pyarrow.compute as pc

    from hurricane_assets.masking import stream_gate
    from hurricane_assets.masking.distinct import count_distinct
    from hurricane_assets.masking.operators.generalise import quantile_edges

    rng = np.random.default_rng(seed)
    floats = np.round(rng.lognormal(3, 1.5, 5000), 1)
    floats[rng.integers(0, 5000, 40)] = np.nan
    floats[:3] = [np.inf, -0.0, 0.0]
    for column in (pa.array(floats, mask=rng.random(5000) < 0.05), pa.array(rng.integers(-50, 900, 5000))):
        histogram = None
        for start in range(0, len(column), 701):
            histogram = stream_gate._histogram(column.slice(start, 701), histogram)
        for quantiles in (2, 5, 20, 64):
            edges = stream_gate._resolve({"quantiles": quantiles}, histogram)["edges"]
            assert edges == quantile_edges(column, quantiles)
        assert count_distinct(column) == pc.count_distinct(column).as_py()
        assert count_distinct(pa.chunked_array([column.slice(0, 10), column.slice(10)])) == count_distinct(column)


def test_a_distinct_set_just_under_the_limit_is_not_merged_again_at_every_batch(monkeypatch):
    """A column whose distinct values nearly fill the counter (customer ids at 10M rows), seen again in
    every batch: re-sorting the held set per batch made the counting quadratic (198 of 317 s at 10M)."""
    counter = stream.DistinctCounter(limit=1000)
    merged_sizes = []
    fold = stream.DistinctCounter._fold

    def counting_fold(self):
        merged_sizes.append(sum(len(p) for p in self._parts))
        fold(self)

    monkeypatch.setattr(stream.DistinctCounter, "_fold", counting_fold)
    batches = 200
    for b in range(batches):
        counter.add(pa.array([f"c{(b * 211 + i) % 900}" for i in range(200)]))  # 900 distinct in all
    assert counter.count() == 900
    # each merge must follow at least limit/2 newly held hashes, not one batch of 200
    assert sum(merged_sizes) <= 3 * 200 * batches
    assert len(merged_sizes) <= batches // 2
