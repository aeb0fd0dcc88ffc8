from negotiation_graph.concession import concession_path
from negotiation_graph.feasibility import explore
from negotiation_graph.scoring import consumer_utility, producer_risk
from tests.negotiation_graph.ports_in_memory import TableGate
from tests.negotiation_graph.sample_world import M, fraud_need, listings, rules

PAYMENTS = listings()[0]


def test_path_runs_from_the_producers_anchor_to_the_consumers_ideal_with_monotone_utilities():
    need = fraud_need(wanted={"channel": 0.6, "device": 0.4})
    region = explore(TableGate(rules()), need, PAYMENTS)
    path = concession_path(need, PAYMENTS, region, ("channel", "device"))
    assert path[0].columns == {"txn_id": M.none, "channel": M.tokenize, "device_id": M.tokenize}
    assert path[-1].columns["channel"] is M.none and path[-1].retention_days == 120
    consumer = [consumer_utility(need, PAYMENTS, t, ("channel", "device")) for t in path]
    risk = [producer_risk(PAYMENTS, t) for t in path]
    assert consumer == sorted(consumer) and len(set(consumer)) == len(consumer)
    assert risk == sorted(risk)


def test_only_one_column_per_feature_crosses_over():
    need = fraud_need(wanted={"feature": 1.0})  # a tag that several columns carry
    region = explore(TableGate(rules()), need, PAYMENTS)
    path = concession_path(need, PAYMENTS, region, ("feature",))
    assert all(len(t.columns) == 2 for t in path)  # the join key and one feature column
