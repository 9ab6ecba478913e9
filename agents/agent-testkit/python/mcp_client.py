"""Drives an MCP server with the official MCP Python SDK's client (`mcp` on PyPI) over
Streamable HTTP, so that the Rust servers are checked by an implementation nobody here wrote.

Usage: python3-pinned mcp_client.py URL [HEADER=VALUE ...] < steps.json
MCP_CLIENT_MODE: the client's `mode` ("auto", the default, or "legacy": the pre-2026-07-28
handshake with `initialize`, which AgentCore's gateway and older clients still use).
Steps: [{"op": "list_tools"}, {"op": "call", "name": ..., "arguments": {...}}, ...]
Prints one JSON report: the server's name and version, the protocol version negotiated, and
per step its result or the JSON-RPC error ({"error": {"code", "message"}}).
"""

import asyncio
import json
import os
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


async def run(url, headers, steps):
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    report = {"steps": []}
    mode = os.environ.get("MCP_CLIENT_MODE", "auto")
    try:
        async with Client(transport, mode=mode) as client:
            info = client.server_info
            report["server"] = {"name": info.name, "version": info.version} if info else None
            report["protocol_version"] = client.protocol_version
            for step in steps:
                report["steps"].append(await run_step(client, step))
    except Exception as exc:
        # Closing the connection after the last step can fail when the server has gone away
        # meanwhile (a SIGTERM test): reported, not raised, since every step has its answer.
        if len(report["steps"]) < len(steps):
            raise
        report["closed_with"] = repr(exc)
    print(json.dumps(report))


async def run_step(client, step):
    try:
        if step["op"] == "list_tools":
            listed = await client.list_tools()
            tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed.tools]
            return {"tools": tools}
        if step["op"] == "call":
            result = await client.call_tool(step["name"], step.get("arguments"))
            return {
                "is_error": bool(result.is_error),
                "structured": result.structured_content,
                "text": "".join(getattr(c, "text", "") for c in result.content),
            }
        raise ValueError(f"unknown op {step['op']!r}")
    except MCPError as e:
        return {"error": {"code": e.code, "message": e.message}}


def main():
    url = sys.argv[1]
    headers = dict(arg.split("=", 1) for arg in sys.argv[2:])
    asyncio.run(run(url, headers, json.load(sys.stdin)))


if __name__ == "__main__":
    main()
