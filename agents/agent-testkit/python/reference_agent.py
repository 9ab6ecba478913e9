"""An agent on the official AgentCore Python SDK's server (`bedrock-agentcore`), the independent
implementation of the runtime's HTTP contract that agentcore-runtime is compared with.

Its handler answers like a minimal `assistant`: a `prompt` string in, an answer out; anything
else is the handler's own 400. What differs between the two servers is then the contract, never
the agent. Usage: python3-pinned reference_agent.py PORT
"""

import sys

from bedrock_agentcore.runtime import BedrockAgentCoreApp, BedrockAgentCoreContext
from starlette.responses import JSONResponse

app = BedrockAgentCoreApp()


@app.entrypoint
def invoke(payload, context):
    prompt = payload.get("prompt") if isinstance(payload, dict) else None
    if not isinstance(prompt, str):
        return JSONResponse({"error": "expected {\"prompt\": string}"}, status_code=400)
    return {
        "answer": f"{len(prompt)} characters",
        "session_id": context.session_id,
        "request_id": BedrockAgentCoreContext.get_request_id(),
        "headers": context.request_headers or {},
    }


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), host="127.0.0.1")
