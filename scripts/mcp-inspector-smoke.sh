#!/usr/bin/env bash
# Smoke test of the harness MCP endpoint with the official MCP Inspector CLI (not run in CI: it
# downloads the inspector). Start the bot with mcp.server.enabled first, then:
#   MCP_URL=http://127.0.0.1:3100/mcp MCP_TOKEN=<a token from HARNESS_MCP_TOKENS> scripts/mcp-inspector-smoke.sh
set -euo pipefail
url="${MCP_URL:-http://127.0.0.1:3100/mcp}"
: "${MCP_TOKEN:?set MCP_TOKEN to a token from HARNESS_MCP_TOKENS}"
# Inspector 1.x is the newest line whose CLI runs on Node 20 (2.x needs Node >= 22); 0.x has no --header.
pkg="${MCP_INSPECTOR:-@modelcontextprotocol/inspector@1.0.3}"
inspector=(npx --yes "$pkg" --cli "$url" --transport http --header "Authorization: Bearer ${MCP_TOKEN}")

echo "== tools/list"
"${inspector[@]}" --method tools/list
echo "== tools/call list_runs"
"${inspector[@]}" --method tools/call --tool-name list_runs --tool-arg limit=5
echo "== no token must be refused"
if npx --yes "$pkg" --cli "$url" --transport http --method tools/list >/dev/null 2>&1; then
  echo "FAIL: the endpoint answered without a token" >&2
  exit 1
fi
echo "ok"
