"""The exchange code location: data needs → negotiations → contracts → share deliveries → verdicts.

It owns the negotiation runs and the share assets (`[consumer, <producer>__<dataset>]`), because a
sensor can only launch runs of its own location; it reads every location's events.
"""
