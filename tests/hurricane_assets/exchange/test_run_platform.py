"""`RunPlatform`: the exchange's platform and consumer keys, built once per run, fresh in the next."""

import dagster as dg

from hurricane_assets.exchange.run_platform import RunPlatform
from hurricane_assets.sharing.platform import SharingPlatform


def test_the_platform_is_built_once_per_run_and_again_for_the_next_run(monkeypatch):
    built = []
    monkeypatch.setattr(SharingPlatform, "from_environment", classmethod(lambda cls: built.append(object()) or built[-1]))
    seen = []

    def share(name: str) -> dg.AssetsDefinition:
        @dg.asset(name=name)
        def _share(exchange: RunPlatform) -> None:
            seen.append((exchange.platform, exchange.consumer_keys))

        return _share

    resource = RunPlatform()
    with dg.instance_for_test() as instance:
        for _ in range(2):
            assert dg.materialize([share("a"), share("b")], instance=instance, resources={"exchange": resource}).success
    assert len(built) == 2  # one per run, not one per share
    (first_a, keys_a), (first_b, keys_b), (second_a, _), (second_b, _) = seen
    assert first_a is first_b and keys_a is keys_b  # the run's shares share one platform and one key cache
    assert second_a is second_b is not first_a  # a key rotated or a contract signed between runs is seen
