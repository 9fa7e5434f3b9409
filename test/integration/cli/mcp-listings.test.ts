/**
 * Issue D, build item 4, over the real CLI: `harness mcp-tools` and `harness blueprint` list every
 * MCP tool with its source, category and policy decision, and `harness doctor` checks each
 * configured MCP server. The sandbox's config.yaml is the repo's, so the example notes server
 * (examples/notes-mcp-server/server.mjs, server `notes`, used by roles/notes-keeper.md) is started
 * for real over stdio by each command. The expectations below come from the issue and the config,
 * not from the output: the notes server's read-hinted tools are read_only and allowed, its add and
 * delete tools fall in the gated `unknown` category and need approval, and only notes-keeper lists them.
 * The six agent tools (source harness-mcp, one in-process MCP server per run) are listed too: the
 * three readers for every role, the lifecycle tools only for pm (category conversational, the one
 * in `mcp.fullAccessCategories`), `unavailable` for the other roles.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { type CliResult, type CliSandbox, createSandbox } from './cli-fixture.ts';

/** Secrets in the child's environment; no listing or doctor output may contain one. */
const CANARIES = {
  SLACK_BOT_TOKEN: 'xoxb-CANARY-mcp-1234567890',
  SLACK_APP_TOKEN: 'xapp-CANARY-mcp-1234567890',
  SLACK_SIGNING_SECRET: 'CANARYmcpsigningsecret123',
  OPENAI_API_KEY: 'sk-CANARY-mcp-1234567890',
  MCP_HTTP_TOKEN: 'CANARYmcplistingtoken123',
};

const ROLES = ['notes-keeper', 'pm', 'researcher', 'reviewer', 'writer'] as const;

interface ExpectedTool {
  name: string;
  original: string;
  category: string;
  risk: string;
  /** What policy decides for notes-keeper (every other role does not list the tool: deny). */
  decision: 'allow' | 'approve';
}

const NOTES_TOOLS: readonly ExpectedTool[] = [
  { name: 'notes__list_notes', original: 'list_notes', category: 'read_only', risk: 'read', decision: 'allow' },
  { name: 'notes__read_note', original: 'read_note', category: 'read_only', risk: 'read', decision: 'allow' },
  { name: 'notes__add_note', original: 'add_note', category: 'unknown', risk: 'write', decision: 'approve' },
  { name: 'notes__delete_note', original: 'delete_note', category: 'unknown', risk: 'irreversible', decision: 'approve' },
];
const NOTES_TOOL_NAMES = NOTES_TOOLS.map((t) => t.name);

/** The harness's built-in tools and the roles/*.md that list them (decisions from config.yaml policy). */
const BUILTIN_DECISIONS: Record<string, Record<string, string>> = {
  workspace_list: { 'notes-keeper': 'deny', pm: 'allow', researcher: 'allow', reviewer: 'allow', writer: 'allow' },
  workspace_search: { 'notes-keeper': 'deny', pm: 'allow', researcher: 'allow', reviewer: 'allow', writer: 'allow' },
  workspace_read: { 'notes-keeper': 'deny', pm: 'allow', researcher: 'allow', reviewer: 'allow', writer: 'allow' },
  workspace_write: { 'notes-keeper': 'deny', pm: 'deny', researcher: 'deny', reviewer: 'deny', writer: 'approve' },
  http_fetch: { 'notes-keeper': 'deny', pm: 'deny', researcher: 'approve', reviewer: 'deny', writer: 'deny' },
};

/** The agent tools, from config.yaml (`policy.categories` read_only and agent_lifecycle: allow; `mcp.fullAccessCategories: [conversational]`) and roles/*.md (only pm is conversational). */
const AGENT_TOOLS = [
  { name: 'list_agents', category: 'read_only', destructive: false, idempotent: true, lifecycle: false },
  { name: 'list_tasks', category: 'read_only', destructive: false, idempotent: true, lifecycle: false },
  { name: 'get_task_context', category: 'read_only', destructive: false, idempotent: true, lifecycle: false },
  { name: 'draft_agent', category: 'agent_lifecycle', destructive: false, idempotent: false, lifecycle: true },
  { name: 'await_agent', category: 'agent_lifecycle', destructive: false, idempotent: true, lifecycle: true },
  { name: 'kill_agent', category: 'agent_lifecycle', destructive: true, idempotent: false, lifecycle: true },
] as const;
const AGENT_TOOL_NAMES = AGENT_TOOLS.map((t) => t.name);

function agentDecisions(tool: (typeof AGENT_TOOLS)[number]): Record<string, string> {
  return Object.fromEntries(ROLES.map((role) => [role, tool.lifecycle && role !== 'pm' ? 'unavailable' : 'allow']));
}

function expectedDecisions(tool: ExpectedTool): Record<string, string> {
  return Object.fromEntries(ROLES.map((role) => [role, role === 'notes-keeper' ? tool.decision : 'deny']));
}

interface McpToolsBody {
  tools: {
    name: string;
    description: string;
    inputSchema: { type: string; additionalProperties: boolean; properties: Record<string, unknown>; required?: string[] };
    annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
    _meta: { source: string; category: string; risk: string }; decisionByRole: Record<string, string> }[];
  servers: { server: string; transport: string; state: string; lastError: string | null; tools: { name: string; server: string; original: string; category: string }[]; skipped: unknown[] }[];
  problems: string[];
  warnings: string[];
}

interface BlueprintBody {
  tools: { name: string; source: string; category: string; risk: string; idempotent: boolean; decisionByRole: Record<string, string> }[];
  policy: { categories: Record<string, string> };
  interfaces: {
    cli: { commands: string[] };
    mcp: { descriptors: string; toolSources: string[]; server: { http: string | null; stdio: string; readTools: string[]; fullTools: string[] } };
  };
  externalMcpServers: { name: string; transport: string; state: string; tools: string[] }[];
}

interface DoctorBody {
  ok: boolean;
  config: { secrets: Record<string, string> };
  model: { status: string };
  store: { ok: boolean };
  mcpServers: {
    servers: { server: string; transport: string; state: string; lastError: string | null; tools: { name: string; category: string }[] }[];
    problems: string[];
  };
}

function leaks(result: CliResult): string[] {
  return Object.entries(CANARIES)
    .filter(([, value]) => result.stdout.includes(value) || result.stderr.includes(value))
    .map(([key]) => key);
}

describe('MCP tool listings and the MCP server check (issue D, build item 4)', () => {
  let box: CliSandbox;

  beforeAll(async () => {
    box = await createSandbox(CANARIES);
  });
  afterAll(async () => {
    await box.cleanup();
  });

  it('mcp-tools --json lists the notes server tools namespaced, with source, category, risk and decision per role', async () => {
    const result = await box.json<McpToolsBody>(['mcp-tools']);
    expect(result.code).toBe(0);
    expect(leaks(result)).toEqual([]);
    const { body } = result;
    expect(body.problems).toEqual([]);

    for (const expected of NOTES_TOOLS) {
      const tool = body.tools.find((t) => t.name === expected.name);
      expect(tool, expected.name).toBeDefined();
      expect(tool?._meta).toEqual({ source: 'mcp:notes', category: expected.category, risk: expected.risk });
      expect(tool?.decisionByRole).toEqual(expectedDecisions(expected));
      expect(tool?.annotations.readOnlyHint).toBe(expected.category === 'read_only');
      expect(tool?.description).toMatch(/^\[notes\] /);
    }
    // No un-namespaced copy of a notes tool leaks into the listing.
    for (const original of NOTES_TOOLS.map((t) => t.original)) expect(body.tools.map((t) => t.name)).not.toContain(original);

    // The server itself: connected over stdio, all four tools offered with the server's own names.
    expect(body.servers).toHaveLength(1);
    const notes = body.servers[0];
    expect(notes).toMatchObject({ server: 'notes', transport: 'stdio', state: 'connected', lastError: null, skipped: [] });
    expect(notes?.tools.map((t) => [t.name, t.server, t.original, t.category])).toEqual(NOTES_TOOLS.map((t) => [t.name, 'notes', t.original, t.category]));
  });

  it('mcp-tools --json lists the built-in tools too, with source builtin and the configured decisions', async () => {
    const { body } = await box.json<McpToolsBody>(['mcp-tools']);
    const builtins = body.tools.filter((t) => t._meta.source === 'builtin');
    expect(builtins.map((t) => t.name).sort()).toEqual(Object.keys(BUILTIN_DECISIONS).sort());
    for (const tool of builtins) expect(tool.decisionByRole, tool.name).toEqual(BUILTIN_DECISIONS[tool.name]);
    // Every listed tool is built in, comes from the one configured server, or is an agent tool.
    expect([...new Set(body.tools.map((t) => t._meta.source))].sort()).toEqual(['builtin', 'harness-mcp', 'mcp:notes']);
  });

  it('mcp-tools --json lists the six agent tools: all decided for pm, the three readers only for writer', async () => {
    const { code, body } = await box.json<McpToolsBody>(['mcp-tools']);
    expect(code).toBe(0);
    const agentTools = body.tools.filter((t) => t._meta.source === 'harness-mcp');
    expect(agentTools.map((t) => t.name)).toEqual(AGENT_TOOL_NAMES);
    for (const expected of AGENT_TOOLS) {
      const tool = agentTools.find((t) => t.name === expected.name);
      expect(tool?._meta, expected.name).toEqual({ source: 'harness-mcp', category: expected.category, risk: 'read' });
      expect(tool?.decisionByRole, expected.name).toEqual(agentDecisions(expected));
      expect(tool?.annotations, expected.name).toEqual({ readOnlyHint: !expected.lifecycle || expected.name === 'await_agent', destructiveHint: expected.destructive, idempotentHint: expected.idempotent, openWorldHint: false });
      expect(tool?.inputSchema, expected.name).toMatchObject({ type: 'object', additionalProperties: false });
      expect(tool?.description.length, expected.name).toBeGreaterThan(0);
    }
    const pm = Object.fromEntries(agentTools.map((t) => [t.name, t.decisionByRole['pm']]));
    expect(pm).toEqual(Object.fromEntries(AGENT_TOOL_NAMES.map((n) => [n, 'allow'])));
    const writer = Object.fromEntries(agentTools.map((t) => [t.name, t.decisionByRole['writer']]));
    expect(writer).toEqual({ list_agents: 'allow', list_tasks: 'allow', get_task_context: 'allow', draft_agent: 'unavailable', await_agent: 'unavailable', kill_agent: 'unavailable' });
    // The input schemas are the agent tools' own (tool-specs.ts), e.g. draft_agent needs role and task.
    expect(agentTools.find((t) => t.name === 'draft_agent')?.inputSchema).toMatchObject({ required: ['role', 'task'] });
    expect(Object.keys(agentTools.find((t) => t.name === 'kill_agent')?.inputSchema.properties ?? {}).sort()).toEqual(['agent_id', 'reason']);
  });

  it('mcp-tools --category agent_lifecycle keeps only draft_agent, await_agent and kill_agent', async () => {
    const { code, body } = await box.json<McpToolsBody>(['mcp-tools', '--category', 'agent_lifecycle']);
    expect(code).toBe(0);
    expect(body.tools.map((t) => t.name)).toEqual(['draft_agent', 'await_agent', 'kill_agent']);
  });

  it('mcp-tools (human) shows an agent tool row naming only the roles that may call it', async () => {
    const result = await box.run(['mcp-tools']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.find((line) => line.startsWith('draft_agent '))?.split(/\s{2,}/)).toEqual(['draft_agent', 'harness-mcp', 'agent_lifecycle', 'read', 'pm=allow']);
    expect(lines.find((line) => line.startsWith('list_tasks '))?.split(/\s{2,}/)).toEqual(['list_tasks', 'harness-mcp', 'read_only', 'read', ROLES.map((r) => `${r}=allow`).join(', ')]);
  });

  it('mcp-tools --category read_only keeps only the read-hinted notes tools', async () => {
    const { code, body } = await box.json<McpToolsBody>(['mcp-tools', '--category', 'read_only']);
    expect(code).toBe(0);
    expect(body.tools.every((t) => t._meta.category === 'read_only')).toBe(true);
    expect(body.tools.filter((t) => t._meta.source === 'mcp:notes').map((t) => t.name)).toEqual(['notes__list_notes', 'notes__read_note']);
    expect(body.tools.filter((t) => t._meta.source === 'harness-mcp').map((t) => t.name)).toEqual(['list_agents', 'list_tasks', 'get_task_context']);
  });

  it('mcp-tools (human) shows each notes tool with its source, category and decision on one row', async () => {
    const result = await box.run(['mcp-tools']);
    expect(result.code).toBe(0);
    expect(leaks(result)).toEqual([]);
    const lines = result.stdout.split('\n');
    for (const expected of NOTES_TOOLS) {
      const row = lines.find((line) => line.startsWith(`${expected.name} `));
      expect(row, expected.name).toBeDefined();
      expect(row?.split(/\s{2,}/)).toEqual([expected.name, 'mcp:notes', expected.category, expected.risk, `notes-keeper=${expected.decision}`]);
    }
    expect(lines.some((line) => /^notes\s+stdio\s+ok\s+4\s/.test(line))).toBe(true);
  });

  it('blueprint --json holds the same tools with source, category and decision, and the MCP interfaces', async () => {
    const blueprint = await box.json<BlueprintBody>(['blueprint']);
    const listing = await box.json<McpToolsBody>(['mcp-tools']);
    expect(blueprint.code).toBe(0);
    expect(leaks(blueprint)).toEqual([]);
    const { body } = blueprint;

    for (const expected of NOTES_TOOLS) {
      const tool = body.tools.find((t) => t.name === expected.name);
      expect(tool, expected.name).toMatchObject({ source: 'mcp:notes', category: expected.category, risk: expected.risk, decisionByRole: expectedDecisions(expected) });
    }
    // The add and delete tools are gated because their category is, per the live policy.
    for (const expected of NOTES_TOOLS) {
      expect(body.policy.categories[expected.category], expected.name).toBe(expected.decision);
    }
    // Same tools, same facts as mcp-tools (one registry, one policy).
    const fromBlueprint = body.tools.map((t) => ({ name: t.name, source: t.source, category: t.category, risk: t.risk, decisionByRole: t.decisionByRole }));
    const fromListing = listing.body.tools.map((t) => ({ name: t.name, ...t._meta, decisionByRole: t.decisionByRole }));
    expect(fromBlueprint).toEqual(fromListing);

    // The agent tools: pm (conversational, full access) has all six allowed, writer only the readers.
    for (const expected of AGENT_TOOLS) {
      const tool = body.tools.find((t) => t.name === expected.name);
      expect(tool, expected.name).toMatchObject({ source: 'harness-mcp', category: expected.category, risk: 'read', idempotent: expected.idempotent, decisionByRole: agentDecisions(expected) });
    }
    expect(body.tools.filter((t) => t.decisionByRole['writer'] === 'unavailable').map((t) => t.name)).toEqual(['draft_agent', 'await_agent', 'kill_agent']);
    expect(body.tools.filter((t) => t.source === 'harness-mcp' && t.decisionByRole['pm'] === 'allow').map((t) => t.name)).toEqual(AGENT_TOOL_NAMES);

    expect(body.externalMcpServers).toEqual([{ name: 'notes', transport: 'stdio', state: 'connected', tools: NOTES_TOOL_NAMES }]);
    expect(body.interfaces.cli.commands).toEqual(expect.arrayContaining(['mcp-tools', 'blueprint', 'doctor']));
    expect(body.interfaces.mcp).toEqual({
      descriptors: 'harness mcp-tools',
      toolSources: ['builtin', 'harness-mcp', 'mcp:notes'],
      server: {
        http: null, // mcp.server.enabled is false in the default config
        stdio: 'harness mcp stdio [--access read|full]',
        readTools: ['list_agents', 'list_tasks', 'get_task_context', 'list_runs', 'get_run', 'list_pending_approvals'],
        fullTools: ['list_agents', 'list_tasks', 'get_task_context', 'list_runs', 'get_run', 'list_pending_approvals', 'draft_agent', 'await_agent', 'kill_agent'],
      },
    });
  });

  it('blueprint shows the HTTP endpoint of the harness MCP server when mcp.server is enabled', async () => {
    // A second config file beside config.yaml (relative paths resolve against its folder);
    // blueprint only describes the endpoint, it does not listen on it.
    const config = parseDocument(await readFile(join(box.dir, 'config.yaml'), 'utf8'));
    config.setIn(['mcp', 'server', 'enabled'], true);
    config.setIn(['mcp', 'server', 'host'], '127.0.0.1');
    config.setIn(['mcp', 'server', 'port'], 8931);
    await writeFile(join(box.dir, 'config-mcp-server.yaml'), config.toString());
    const { code, body } = await box.json<BlueprintBody>(['blueprint', '--config', 'config-mcp-server.yaml']);
    expect(code).toBe(0);
    expect(body.interfaces.mcp.server.http).toBe('http://127.0.0.1:8931/mcp');
  });

  it('blueprint (markdown) names every notes tool with source, category and decisions, and the notes server', async () => {
    const result = await box.run(['blueprint']);
    expect(result.code).toBe(0);
    expect(leaks(result)).toEqual([]);
    const lines = result.stdout.split('\n');
    // Tools table columns: tool | source | category | risk | idempotent | one column per role (sorted as listed).
    const header = lines.find((line) => line.startsWith('| tool | source | category |'));
    expect(header).toBeDefined();
    const roleColumns = header?.split('|').map((c) => c.trim()).slice(6, -1);
    expect(roleColumns).toEqual([...ROLES]);
    for (const expected of NOTES_TOOLS) {
      const row = lines.find((line) => line.startsWith(`| ${expected.name} |`));
      expect(row, expected.name).toBeDefined();
      const cells = row?.split('|').map((c) => c.trim()).slice(1, -1) ?? [];
      expect(cells.slice(0, 4)).toEqual([expected.name, 'mcp:notes', expected.category, expected.risk]);
      expect(cells.slice(5)).toEqual(ROLES.map((role) => expectedDecisions(expected)[role]));
    }
    for (const expected of AGENT_TOOLS) {
      const row = lines.find((line) => line.startsWith(`| ${expected.name} |`));
      const cells = row?.split('|').map((c) => c.trim()).slice(1, -1) ?? [];
      expect(cells, expected.name).toEqual([expected.name, 'harness-mcp', expected.category, 'read', String(expected.idempotent), ...ROLES.map((role) => agentDecisions(expected)[role])]);
    }
    expect(result.stdout).toContain(`| notes | stdio | connected | ${NOTES_TOOL_NAMES.join(', ')} |`);
    expect(result.stdout).toContain('MCP server for external clients: HTTP disabled');
  });

  it('doctor --json reports the notes server reachable with its four tools', async () => {
    const result = await box.json<DoctorBody>(['doctor']);
    expect(result.code).toBe(0);
    expect(leaks(result)).toEqual([]);
    const { body } = result;
    expect(body.ok).toBe(true);
    expect(body.config.secrets).toMatchObject({ OPENAI_API_KEY: 'set', MCP_HTTP_TOKEN: 'set' });
    expect(body.mcpServers.problems).toEqual([]);
    expect(body.mcpServers.servers).toHaveLength(1);
    const notes = body.mcpServers.servers[0];
    expect(notes).toMatchObject({ server: 'notes', transport: 'stdio', state: 'connected', lastError: null });
    expect(notes?.tools.map((t) => [t.name, t.category])).toEqual(NOTES_TOOLS.map((t) => [t.name, t.category]));
  });

  it('doctor (human) prints the notes server as ok with its tool count and names', async () => {
    const result = await box.run(['doctor']);
    expect(result.code).toBe(0);
    expect(leaks(result)).toEqual([]);
    expect(result.stdout).toMatch(new RegExp(`^mcp server notes\\s+ok \\(stdio, 4 tools: ${NOTES_TOOL_NAMES.join(', ')}\\)$`, 'm'));
    expect(result.stdout).toMatch(/^doctor: ok$/m);
  });
});

describe('doctor with a notes server whose script is missing', () => {
  let box: CliSandbox;

  beforeAll(async () => {
    box = await createSandbox(CANARIES);
    const path = join(box.dir, 'config.yaml');
    const config = parseDocument(await readFile(path, 'utf8'));
    expect(config.getIn(['mcp', 'servers', 0, 'name'])).toBe('notes');
    expect(config.getIn(['mcp', 'servers', 0, 'stdio', 'args', 0])).toBe('examples/notes-mcp-server/server.mjs');
    config.setIn(['mcp', 'servers', 0, 'stdio', 'args', 0], 'examples/notes-mcp-server/missing-server.mjs');
    await writeFile(path, config.toString());
  });
  afterAll(async () => {
    await box.cleanup();
  });

  it('doctor --json exits 1 naming the server notes as unreachable, and prints no secret', async () => {
    const result = await box.json<DoctorBody>(['doctor']);
    expect(result.code).toBe(1);
    expect(leaks(result)).toEqual([]);
    const { body } = result;
    expect(body.ok).toBe(false);
    const notes = body.mcpServers.servers.find((s) => s.server === 'notes');
    expect(notes).toBeDefined();
    expect(notes?.state).not.toBe('connected');
    expect(notes?.tools).toEqual([]);
    expect(notes?.lastError).toEqual(expect.any(String));
    expect(body.mcpServers.problems).toHaveLength(1);
    expect(body.mcpServers.problems[0]).toMatch(/MCP server "notes" \(stdio\) is unreachable/);
    // The failure is the server's alone: the model and the store are fine.
    expect(body.model.status).toBe('scripted');
    expect(body.store.ok).toBe(true);
    expect(body.config.secrets).toMatchObject({ OPENAI_API_KEY: 'set', SLACK_BOT_TOKEN: 'set' });
  });

  it('doctor (human) exits 1 with the notes server marked UNREACHABLE and no secret', async () => {
    const result = await box.run(['doctor']);
    expect(result.code).toBe(1);
    expect(leaks(result)).toEqual([]);
    expect(result.stdout).toMatch(/^mcp server notes\s+UNREACHABLE \(stdio\): \S/m);
    expect(result.stdout).toMatch(/^problem\s+MCP server "notes" \(stdio\) is unreachable/m);
    expect(result.stdout).toMatch(/^doctor: problems found$/m);
    for (const name of NOTES_TOOL_NAMES) expect(result.stdout).not.toContain(name);
  });

  it('mcp-tools exits 1, lists no notes tool and names the unreachable server', async () => {
    const result = await box.json<McpToolsBody>(['mcp-tools']);
    expect(result.code).toBe(1);
    expect(leaks(result)).toEqual([]);
    expect(result.body.tools.some((t) => t._meta.source === 'mcp:notes')).toBe(false);
    expect(result.body.servers).toEqual([expect.objectContaining({ server: 'notes', state: expect.not.stringMatching(/^connected$/) as unknown, tools: [] })]);
    expect(result.body.problems).toEqual([expect.stringMatching(/MCP server "notes" \(stdio\) is unreachable/)]);
  });
});
