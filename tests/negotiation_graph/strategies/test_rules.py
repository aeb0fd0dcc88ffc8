from negotiation_graph.strategies import Briefing, RuleStrategy, Turn

BRIEF = Briefing("fraud_detection", ("channel",), ())
# along a concession path the producer's utility falls and the consumer's rises
PRODUCER = (0.0, -1.0, -2.0, -3.0, -4.0)
CONSUMER = (0.2, 0.4, 0.6, 0.8, 1.0)


def turn(role, round_, incoming=None, previous=None, max_rounds=8):
    utilities, reservation = (PRODUCER, -4.0) if role == "producer" else (CONSUMER, 0.5)
    return Turn(role, utilities, reservation, round_, max_rounds, incoming, previous)


def test_producer_is_boulware_and_consumer_concedes_linearly():
    rules = RuleStrategy()
    # at a quarter of the time the producer has hardly moved, the consumer a quarter of the way
    assert rules.target(turn("producer", 2)) > -0.1
    assert abs(rules.target(turn("consumer", 2)) - (1.0 - 0.5 * 0.25)) < 1e-9
    assert rules.target(turn("producer", 8)) == -4.0 and rules.target(turn("consumer", 8)) == 0.5


def test_next_offer_meets_the_target_and_is_best_for_the_counterpart():
    rules = RuleStrategy()
    assert rules.candidates(turn("consumer", 1)) == [4]
    assert rules.candidates(turn("consumer", 6)) == [3]  # target 0.625: 0.8 is the lowest meeting it
    assert rules.candidates(turn("producer", 1)) == [0]


def test_a_concession_is_never_taken_back_and_llm_candidates_are_firmer_not_softer():
    rules = RuleStrategy()
    assert rules.candidates(turn("consumer", 1, previous=2)) == [2]
    assert rules.candidates(turn("consumer", 6), k=3) == [3, 4]
    assert rules.candidates(turn("producer", 8, previous=1), k=3) == [4, 3, 2]


def test_ac_next_accepts_an_offer_worth_at_least_the_own_next_offer():
    rules = RuleStrategy()
    assert rules.decide(turn("consumer", 6, incoming=3), BRIEF).kind == "accept"
    assert rules.decide(turn("consumer", 6, incoming=2), BRIEF).kind == "counter"
    assert rules.decide(turn("consumer", 1), BRIEF).kind == "counter"


def test_in_the_last_round_anything_above_the_reservation_is_accepted():
    rules = RuleStrategy()
    early = rules.decide(turn("consumer", 2, incoming=2), BRIEF)
    last = rules.decide(turn("consumer", 7, incoming=2), BRIEF)
    assert early.kind == "counter" and last.kind == "accept" and last.index == 2
    assert rules.decide(turn("consumer", 7, incoming=1), BRIEF).kind == "counter"
