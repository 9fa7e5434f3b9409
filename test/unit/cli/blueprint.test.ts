import { describe, expect, it } from 'vitest';
import { staticRoleCatalog } from '../../../src/agents/role-types.ts';
import { blueprintMarkdown, blueprintMermaid, buildBlueprint } from '../../../src/cli/blueprint.ts';
import { catalogDescriptor, mcpToolDescriptors, toolCatalog } from '../../../src/cli/commands/catalog.ts';
import { AGENT_TOOL_NAMES } from '../../../src/mcp/agent-tools/tool-specs.ts';
import { compilePolicy } from '../../../src/policy/engine.ts';
import { workflowGraph } from '../../../src/orchestrator/transitions.ts';
import type { RunIndexEntry } from '../../../src/store/run-schema.ts';
import { registerBuiltins } from '../../../src/tools/builtins/index.ts';
import { ToolRegistry } from '../../../src/tools/registry.ts';

function entry(runId: string, status: RunIndexEntry['status']): RunIndexEntry {
  return { runId, status, role: 'writer', task: 't', parentRunId: null, createdAt: 1, updatedAt: 1, pendingGates: 0 };
}

function inputs() {
  const registry = new ToolRegistry();
  registerBuiltins(registry, { workspaceRoot: '/nonexistent-workspace' });
  const roles = staticRoleCatalog(
    [
      { name: 'researcher', category: 'worker', description: 'reads', instructions: '', tools: ['workspace_read', 'http_fetch'] },
      { name: 'writer', category: 'worker', description: 'writes', instructions: '', tools: ['workspace_read', 'workspace_write'] },
    ],
    'writer',
  );
  const policy = compilePolicy({ approvers: { default: ['U_APPROVER1'], categories: {} }, network: { allowHosts: ['example.com'] } });
  return { registry, roles, policy };
}

describe('buildBlueprint', () => {
  const { registry, roles, policy } = inputs();
  const blueprint = buildBlueprint({
    version: '9.9.9',
    nodeVersion: 'v20.0.0',
    config: { dataDir: '/d', workspaceRoot: '/w', model: { provider: 'scripted', name: 'gpt-x' }, slack: { mode: 'local' } },
    registry,
    policy,
    roles,
    runs: [entry('r_1', 'completed'), entry('r_2', 'completed'), entry('r_3', 'waiting_approval')],
    dataDirExists: true,
    commands: ['start', 'runs'],
  });

  it('computes each tool decision per role with the live policy', () => {
    const byName = new Map(blueprint.tools.map((t) => [t.name, t]));
    expect(byName.get('workspace_read')?.decisionByRole).toEqual({ researcher: 'allow', writer: 'allow' });
    expect(byName.get('workspace_write')?.decisionByRole).toEqual({ researcher: 'deny', writer: 'approve' });
    expect(byName.get('http_fetch')?.decisionByRole).toEqual({ researcher: 'approve', writer: 'deny' });
    // The registry's tools, then the six agent tools every run gets from its own MCP server.
    expect(blueprint.tools.map((t) => t.name)).toEqual([...registry.list().map((t) => t.name), ...AGENT_TOOL_NAMES]);
  });

  it('lists the agent tools with source harness-mcp; both worker roles lack the lifecycle tools (not full access)', () => {
    const byName = new Map(blueprint.tools.map((t) => [t.name, t]));
    expect(byName.get('list_agents')).toMatchObject({ source: 'harness-mcp', category: 'read_only', risk: 'read', idempotent: true, decisionByRole: { researcher: 'allow', writer: 'allow' } });
    expect(byName.get('draft_agent')).toMatchObject({ source: 'harness-mcp', category: 'agent_lifecycle', idempotent: false, decisionByRole: { researcher: 'unavailable', writer: 'unavailable' } });
    expect(blueprint.interfaces.mcp.toolSources).toEqual(['builtin', 'harness-mcp']);
  });

  it('counts runs by status, carries the workflow table, the policy version and the export names', () => {
    expect(blueprint.store.runsByStatus).toMatchObject({ completed: 2, waiting_approval: 1, failed: 0 });
    expect(blueprint.store.total).toBe(3);
    expect(blueprint.workflow).toEqual(workflowGraph());
    expect(blueprint.policy.version).toBe(policy.version);
    expect(blueprint.artifacts).toContain('trace_summary.json');
    expect(blueprint.runtime).toMatchObject({ node: 'v20.0.0', model: 'scripted', dataDir: '/d' });
    expect(blueprint.interfaces.cli.commands).toEqual(['start', 'runs']);
    expect(blueprint.roles.find((r) => r.default)?.name).toBe('writer');
    expect(blueprint.limitations.length).toBeGreaterThan(0);
  });

  it('renders the same object as markdown and mermaid', () => {
    const markdown = blueprintMarkdown(blueprint);
    expect(markdown).toMatch(/^# slack-harness 9\.9\.9 blueprint/);
    expect(markdown).toContain('| workspace_write | builtin | filesystem_write | write | true | deny | approve |');
    expect(markdown).toContain('| completed | 2 |');
    const mermaid = blueprintMermaid(blueprint);
    expect(mermaid.startsWith('flowchart LR\n')).toBe(true);
    expect(mermaid).toContain('policy -- "approve/deny" --> tool_workspace_write');
    expect(mermaid).toContain('store: 3 run(s)');
  });
});

describe('mcpToolDescriptors', () => {
  const { registry } = inputs();

  it('describes every tool with its JSON schema, hints from its risk and its source/category/risk', () => {
    const tools = mcpToolDescriptors(registry);
    expect(tools.map((t) => t.name)).toEqual(registry.list().map((t) => t.name));
    const read = tools.find((t) => t.name === 'workspace_read');
    expect(read?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(read?.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
    const write = tools.find((t) => t.name === 'workspace_write');
    expect(write?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(write?._meta).toEqual({ source: 'builtin', category: 'filesystem_write', risk: 'write' });
  });

  it('filters by category', () => {
    expect(mcpToolDescriptors(registry, 'network').map((t) => t.name)).toEqual(['http_fetch']);
    expect(mcpToolDescriptors(registry, 'agent_lifecycle')).toEqual([]);
  });
});

describe('toolCatalog', () => {
  const { registry } = inputs();
  const roles = staticRoleCatalog(
    [
      { name: 'pm', category: 'conversational', description: 'plans', instructions: '', tools: ['workspace_read'] },
      { name: 'writer', category: 'worker', description: 'writes', instructions: '', tools: ['workspace_read', 'workspace_write'] },
      { name: 'judge', category: 'reviewer', description: 'reviews', instructions: '', tools: '*' },
    ],
    'writer',
  );
  const base = { approvers: { default: ['U_APPROVER1'], categories: {} } };

  function decisions(entries: ReturnType<typeof toolCatalog>, name: string): Record<string, string> | undefined {
    return entries.find((e) => e.tool.name === name)?.decisionByRole;
  }

  it('gives the lifecycle tools only to full-access categories and judges them with the policy', () => {
    const policy = compilePolicy({ ...base, categories: { read_only: 'allow', agent_lifecycle: 'approve', filesystem_write: 'approve' } });
    const entries = toolCatalog({ registry, policy, roles, fullAccessCategories: ['conversational', 'reviewer'] });
    for (const name of ['list_agents', 'list_tasks', 'get_task_context']) expect(decisions(entries, name), name).toEqual({ pm: 'allow', writer: 'allow', judge: 'allow' });
    for (const name of ['draft_agent', 'await_agent', 'kill_agent']) expect(decisions(entries, name), name).toEqual({ pm: 'approve', writer: 'unavailable', judge: 'approve' });
    // A registry tool the role does not list is a policy deny, never `unavailable`.
    expect(decisions(entries, 'workspace_write')).toEqual({ pm: 'deny', writer: 'approve', judge: 'approve' });
  });

  it('defaults to the config schema (conversational only) and follows a per-role policy override', () => {
    const policy = compilePolicy({ ...base, categories: { read_only: 'allow', agent_lifecycle: 'allow' }, roles: { pm: { categories: { agent_lifecycle: 'deny' } } } });
    const entries = toolCatalog({ registry, policy, roles });
    expect(decisions(entries, 'kill_agent')).toEqual({ pm: 'deny', writer: 'unavailable', judge: 'unavailable' });
  });

  it('describes an agent tool with the schema, source and annotations its run sees, and filters by category', async () => {
    const policy = compilePolicy(base);
    const lifecycle = toolCatalog({ registry, policy, roles }, 'agent_lifecycle');
    expect(lifecycle.map((e) => e.tool.name)).toEqual(['draft_agent', 'await_agent', 'kill_agent']);
    const kill = catalogDescriptor(lifecycle[2]!);
    expect(kill._meta).toEqual({ source: 'harness-mcp', category: 'agent_lifecycle', risk: 'read' });
    expect(kill.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false });
    expect(kill.inputSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['agent_id'] });
    expect(Object.keys((kill.inputSchema as { properties: object }).properties).sort()).toEqual(['agent_id', 'reason']);
    // The listing-only definitions cannot run.
    await expect(lifecycle[2]!.tool.handler({ agent_id: 'r_1' }, {} as never)).rejects.toThrow(/Not connected/);
  });
});
