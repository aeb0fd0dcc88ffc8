"""One domain's agent as its own HTTP service speaking Agent2Agent (A2A 1.0, `a2a-sdk`).

    python -m hurricane_assets.agents.server --domain payments --port 8701

Serves the agent card at `/.well-known/agent-card.json` and A2A JSON-RPC at `/`. Each `SendMessage`
carries one signed envelope as a text part; the answer is a message carrying the agent's signed
envelope. The process loads its own domain's key only (`$HURRICANE_SIGNING_KEY_<DOMAIN>`, else
`$HURRICANE_HOME/domains/<domain>/keys`), binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio

from a2a.helpers.proto_helpers import get_message_text, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill

from hurricane_assets.agents.agent import DomainAgent
from hurricane_assets.agents.client import ENVELOPE_MEDIA_TYPE
from hurricane_assets.identity.envelope import SignedEnvelope


class EnvelopeExecutor(AgentExecutor):
    def __init__(self, agent: DomainAgent):
        self.agent = agent

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = get_message_text(context.message) if context.message is not None else ""
        try:
            request = SignedEnvelope.model_validate_json(text)
        except ValueError:
            reply = '{"error": "the message does not carry a signed envelope"}'
        else:  # Cedar and SQLite block: keep the event loop free
            reply = (await asyncio.to_thread(self.agent.handle, request)).model_dump_json()
        await event_queue.enqueue_event(
            new_text_message(reply, media_type=ENVELOPE_MEDIA_TYPE, context_id=context.context_id, task_id=None)
        )

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError("signing is immediate; there is nothing to cancel")


def agent_card(domain: str, url: str) -> AgentCard:
    return AgentCard(
        name=f"data-hurricane-{domain}",
        description=f"The {domain} domain's agent: signs its negotiation messages, agreements and contracts "
                    "and cosigns the exchange's ledger checkpoints, as this domain only.",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        version="1",
        capabilities=AgentCapabilities(streaming=False, push_notifications=False),
        default_input_modes=[ENVELOPE_MEDIA_TYPE],
        default_output_modes=[ENVELOPE_MEDIA_TYPE],
        skills=[
            AgentSkill(id="sign", name="sign", description="sign a DH-NP message, agreement or contract body", tags=["dh-np"]),
            AgentSkill(id="cosign", name="cosign", description="tlog-witness add-checkpoint", tags=["tlog-witness"]),
        ],
    )


def build_app(agent: DomainAgent, url: str):
    from starlette.applications import Starlette

    card = agent_card(agent.domain, url)
    handler = DefaultRequestHandler(agent_executor=EnvelopeExecutor(agent), task_store=InMemoryTaskStore(), agent_card=card)
    return Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    agent = DomainAgent(args.domain)
    agent.gate  # load the policy before serving: the first request should not wait for Cedar
    app = build_app(agent, f"http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
