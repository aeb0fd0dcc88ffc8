"""The nonce store behind every envelope check: one use per nonce, across connections, pruned as the clock moves."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hurricane_assets.identity import ReplayCache, ReplayedNonceError
from hurricane_assets.identity.replay import PRUNE_EVERY

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def test_a_nonce_is_refused_the_second_time_from_another_connection(tmp_path):
    path = tmp_path / "replay.sqlite"
    ReplayCache(path).remember("a" * 16, "payments", T0 + HOUR, T0)
    with pytest.raises(ReplayedNonceError, match="a{16} from 'payments' was already used"):
        ReplayCache(path).remember("a" * 16, "payments", T0 + HOUR, T0)


def test_a_refused_nonce_leaves_the_cache_usable(tmp_path):
    cache = ReplayCache(tmp_path / "replay.sqlite")
    cache.remember("a" * 16, "payments", T0 + HOUR, T0)
    with pytest.raises(ReplayedNonceError):
        cache.remember("a" * 16, "payments", T0 + HOUR, T0)
    cache.remember("b" * 16, "payments", T0 + HOUR, T0)  # no transaction was left open by the refusal
    assert "b" * 16 in ReplayCache(tmp_path / "replay.sqlite")


def test_expired_nonces_are_pruned_once_the_clock_has_moved_on_and_live_ones_kept(tmp_path):
    cache = ReplayCache(tmp_path / "replay.sqlite")
    cache.remember("short" * 4, "payments", T0 + timedelta(minutes=5), T0)
    cache.remember("long" * 4, "payments", T0 + HOUR, T0 + timedelta(seconds=1))
    cache.remember("later" * 4, "payments", T0 + HOUR, T0 + timedelta(minutes=10) + PRUNE_EVERY)
    assert "short" * 4 not in cache
    assert "long" * 4 in cache and "later" * 4 in cache
