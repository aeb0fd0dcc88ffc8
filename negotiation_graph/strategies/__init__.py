"""How a party chooses its next move on the concession path: rules (default) or an LLM selector."""

from negotiation_graph.strategies.base import Briefing, Move, Strategy, Turn
from negotiation_graph.strategies.rules import RuleStrategy

__all__ = ["Briefing", "Move", "RuleStrategy", "Strategy", "Turn"]
