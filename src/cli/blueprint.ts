/**
 * The architecture blueprint (`harness blueprint`): one object built from the LIVE registry,
 * policy, roles, store counts and transition table, so it cannot describe a harness other than
 * the one that runs. Markdown and Mermaid are renderings of that same object.
 */
import type { RoleCatalog, RoleCategory } from '../agents/role-types.ts';
import { type PolicyDescription, describePolicy } from '../policy/engine.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import { FULL_TOOLS, MCP_HTTP_PATH, READ_TOOLS } from '../mcp/server/tool-specs.ts';
import { workflowGraph } from '../orchestrator/transitions.ts';
import { RunStatus, type RunIndexEntry } from '../store/run-schema.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { EXPORT_ARTIFACTS } from '../trace/export.ts';
import { type RoleToolDecision, type RoleView, roleViews, toolCatalog } from './commands/catalog.ts';

export interface BlueprintTool {
  name: string;
  description: string;
  source: string;
  category: string;
  risk: string;
  idempotent: boolean;
  /**
   * What policy decides for a call of this tool by each role (no paths or URLs considered), or
   * `unavailable` when a run of that role is not given the tool (`RoleToolDecision`).
   */
  decisionByRole: Record<string, RoleToolDecision>;
}

export interface Blueprint {
  name: 'slack-harness';
  version: string;
  runtime: { node: string; model: string; modelProvider: string; dataDir: string; workspaceRoot: string; slackMode: string };
  components: { name: string; path: string; responsibility: string }[];
  /** Every tool a run can be offered: the registry's (builtin, `mcp:<server>`), then the six agent tools (`harness-mcp`). */
  tools: BlueprintTool[];
  roles: RoleView[];
  policy: PolicyDescription;
  workflow: ReturnType<typeof workflowGraph>;
  store: { dataDir: string; exists: boolean; total: number; runsByStatus: Record<RunStatus, number> };
  artifacts: string[];
  interfaces: {
    cli: { entry: string; commands: string[] };
    slack: { mode: string; modes: string[] };
    mcp: { descriptors: string; toolSources: string[]; server: BlueprintMcpServer };
  };
  limitations: string[];
  /** External MCP servers (`mcp.servers`), as found when the blueprint was built (issue D). */
  externalMcpServers: BlueprintExternalServer[];
}

/** One external MCP server: its state and the tools it contributes (each also in `tools`). */
export interface BlueprintExternalServer {
  name: string;
  transport: string;
  state: string;
  tools: string[];
}

/** The harness's own MCP server for external clients (docs/architecture/mcp-server.md). */
export interface BlueprintMcpServer {
  /** `http://<host>:<port>/mcp` when `mcp.server.enabled`, else null. */
  http: string | null;
  stdio: string;
  readTools: string[];
  fullTools: string[];
}

/** What {@link buildBlueprint} reads. */
export interface BlueprintInput {
  version: string;
  nodeVersion: string;
  config: {
    dataDir: string;
    workspaceRoot: string;
    model: { provider: string; name: string };
    slack: { mode: string };
    /** `fullAccessCategories` decides which roles get the agent lifecycle tools (schema default when absent). */
    mcp?: { server?: { enabled: boolean; host: string; port: number }; fullAccessCategories?: readonly RoleCategory[] };
  };
  registry: ToolRegistry;
  policy: CompiledPolicy;
  roles: RoleCatalog;
  runs: readonly RunIndexEntry[];
  /** External MCP servers' reports (`inspectExternalMcp`); their tools are already in `registry`. */
  externalMcp?: readonly { server: string; transport: string; state: string; tools: readonly { name: string }[] }[];
  dataDirExists: boolean;
  commands: readonly string[];
}

const COMPONENTS: Blueprint['components'] = [
  { name: 'cli', path: 'src/cli', responsibility: 'operator commands; calls the harness service like the Slack side does' },
  { name: 'slack', path: 'src/slack', responsibility: 'ingress (ack, dedupe, approver checks) and egress (status, cards, App Home)' },
  { name: 'local-workspace', path: 'src/local-workspace', responsibility: 'Slack-compatible loopback server for offline use and tests' },
  { name: 'orchestrator', path: 'src/orchestrator', responsibility: 'run state machine, commit path, runner (tool loop), budgets, recovery' },
  { name: 'policy', path: 'src/policy', responsibility: 'pure allow | approve | deny decisions, pinned by version hash' },
  { name: 'approvals', path: 'src/approvals', responsibility: 'gates bound to an args hash; authorisation of deciders' },
  { name: 'tools', path: 'src/tools', responsibility: 'registry (schema, category, risk, idempotency) and built-in tools' },
  { name: 'agents', path: 'src/agents', responsibility: 'roles loaded from markdown files' },
  { name: 'model', path: 'src/model', responsibility: 'ModelPort: scripted (offline) or OpenAI-compatible; doctor' },
  { name: 'admin', path: 'src/admin', responsibility: 'admin socket: the running bot applies the CLI\'s writes (owner-only Unix socket)' },
  { name: 'store', path: 'src/store', responsibility: 'one durable JSON document per run, index, data-dir lock' },
  { name: 'trace', path: 'src/trace', responsibility: 'summaries, handoffs, exports, hash-chained audit log' },
  { name: 'memory', path: 'src/memory', responsibility: 'working context, session state, retrieval over a run' },
  { name: 'config', path: 'src/config', responsibility: 'config.yaml + env, validated strictly; the only reader of process.env' },
];

const LIMITATIONS = [
  'While the bot runs, CLI writes (start, approve, reject, resume, cancel, retry-step, skip-step) go to it over <dataDir>/admin.sock, a Unix socket (Linux; the CLI must run as the bot\'s user on the same host), with requests of at most 64 KiB.',
  'One writing process per data directory (a pid lock on one host); there is no multi-host deployment.',
  'The scripted model (the offline default) follows fixed scenarios; real reasoning needs model.provider: openai.',
  '`harness start` runs the role named by --role, else roles.default.',
  'The audit chain detects edited or reordered entries, not the removal of its newest entries; run traces and Slack permalinks are the independent witnesses.',
  'Exports copy produced files only from inside the workspace root.',
];

/** Builds the blueprint. Pure apart from what its inputs hold. */
export function buildBlueprint(input: BlueprintInput): Blueprint {
  // The same rows as `harness mcp-tools`: the registry's tools, then the six per-run agent tools.
  const catalog = toolCatalog({
    registry: input.registry,
    policy: input.policy,
    roles: input.roles,
    ...(input.config.mcp?.fullAccessCategories === undefined ? {} : { fullAccessCategories: input.config.mcp.fullAccessCategories }),
  });
  const tools: BlueprintTool[] = catalog.map(({ tool, decisionByRole }) => ({
    name: tool.name,
    description: tool.description,
    source: tool.source,
    category: tool.category,
    risk: tool.risk,
    idempotent: tool.idempotent,
    decisionByRole,
  }));
  const runsByStatus = Object.fromEntries(RunStatus.options.map((s) => [s, 0])) as Record<RunStatus, number>;
  for (const entry of input.runs) runsByStatus[entry.status] += 1;
  const model = input.config.model.provider === 'scripted' ? 'scripted' : `openai:${input.config.model.name}`;
  return {
    name: 'slack-harness',
    version: input.version,
    runtime: {
      node: input.nodeVersion,
      model,
      modelProvider: input.config.model.provider,
      dataDir: input.config.dataDir,
      workspaceRoot: input.config.workspaceRoot,
      slackMode: input.config.slack.mode,
    },
    components: COMPONENTS.map((c) => ({ ...c })),
    tools,
    roles: roleViews(input.roles),
    policy: describePolicy(input.policy),
    workflow: workflowGraph(),
    store: { dataDir: input.config.dataDir, exists: input.dataDirExists, total: input.runs.length, runsByStatus },
    artifacts: [...EXPORT_ARTIFACTS, 'files/<workspace-relative path>'],
    interfaces: {
      cli: { entry: 'harness (bin/harness.mjs → src/cli/main.ts)', commands: [...input.commands] },
      slack: { mode: input.config.slack.mode, modes: ['socket', 'http', 'local'] },
      mcp: { descriptors: 'harness mcp-tools', toolSources: [...new Set(tools.map((t) => t.source))].sort(), server: mcpServerView(input.config.mcp?.server) },
    },
    limitations: [...LIMITATIONS],
    externalMcpServers: (input.externalMcp ?? []).map((s) => ({ name: s.server, transport: s.transport, state: s.state, tools: s.tools.map((t) => t.name) })),
  };
}

function mcpServerView(server: { enabled: boolean; host: string; port: number } | undefined): BlueprintMcpServer {
  const host = server?.host.includes(':') ? `[${server.host}]` : server?.host;
  return {
    http: server?.enabled === true ? `http://${host}:${server.port}${MCP_HTTP_PATH}` : null,
    stdio: 'harness mcp stdio [--access read|full]',
    readTools: [...READ_TOOLS],
    fullTools: [...READ_TOOLS, ...FULL_TOOLS],
  };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

/** The blueprint as a markdown document. */
export function blueprintMarkdown(b: Blueprint): string {
  const roleNames = b.roles.map((r) => r.name);
  const sections = [
    `# ${b.name} ${b.version} blueprint`,
    table(['runtime', 'value'], Object.entries(b.runtime).map(([k, v]) => [k, String(v)])),
    '## Components',
    table(['component', 'path', 'responsibility'], b.components.map((c) => [c.name, `\`${c.path}\``, c.responsibility])),
    '## Tools and what policy decides per role',
    table(
      ['tool', 'source', 'category', 'risk', 'idempotent', ...roleNames],
      b.tools.map((t) => [t.name, t.source, t.category, t.risk, String(t.idempotent), ...roleNames.map((r) => t.decisionByRole[r] ?? '-')]),
    ),
    '## Roles',
    table(['role', 'category', 'tools', 'description'], b.roles.map((r) => [`${r.name}${r.default ? ' (default)' : ''}`, r.category, r.tools === '*' ? '*' : r.tools.join(', '), r.description])),
    '## Policy',
    table(
      ['setting', 'value'],
      [
        ['version', b.policy.version],
        ...Object.entries(b.policy.categories).map(([c, d]) => [`category ${c}`, d]),
        ['write roots', b.policy.filesystem.roots.join(', ') || '(none)'],
        ['allowed hosts', b.policy.network.allowHosts.join(', ') || '(none)'],
        ['approvers', b.policy.approvers.default.join(', ') || '(none)'],
        ['four-eyes', String(b.policy.fourEyes)],
      ],
    ),
    '## Workflow',
    table(['from', 'to', 'event', 'when'], b.workflow.transitions.map((t) => [t.from, t.to, t.event, t.condition])),
    '## Store',
    table(['status', 'runs'], Object.entries(b.store.runsByStatus).map(([s, n]) => [s, String(n)])),
    `Data directory \`${b.store.dataDir}\`${b.store.exists ? '' : ' (not created yet)'}; ${b.store.total} run(s).`,
    '## Artifacts (`harness export`)',
    b.artifacts.map((a) => `- \`${a}\``).join('\n'),
    '## Interfaces',
    [
      `- CLI: ${b.interfaces.cli.entry}; commands: ${b.interfaces.cli.commands.join(', ')}`,
      `- Slack: mode ${b.interfaces.slack.mode} (of ${b.interfaces.slack.modes.join(', ')})`,
      `- MCP: descriptors from \`${b.interfaces.mcp.descriptors}\`; tool sources: ${b.interfaces.mcp.toolSources.join(', ')}`,
      `- MCP server for external clients: HTTP ${b.interfaces.mcp.server.http ?? 'disabled (mcp.server.enabled)'}; stdio \`${b.interfaces.mcp.server.stdio}\`; read tokens: ${b.interfaces.mcp.server.readTools.join(', ')}; full tokens add: ${FULL_TOOLS.join(', ')}; no tool decides approvals`,
    ].join('\n'),
    '## External MCP servers',
    b.externalMcpServers.length === 0
      ? 'None configured (`mcp.servers`).'
      : table(['server', 'transport', 'state', 'tools (category and decisions in the tools table)'], b.externalMcpServers.map((x) => [x.name, x.transport, x.state, x.tools.join(', ') || '-'])),
    '## Limitations',
    b.limitations.map((l) => `- ${l}`).join('\n'),
  ];
  return `${sections.join('\n\n')}\n`;
}

function mermaidId(prefix: string, name: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The blueprint as a Mermaid flowchart: interfaces → harness → policy → tools, roles, store. */
export function blueprintMermaid(b: Blueprint): string {
  const lines = [
    'flowchart LR',
    `  cli["CLI (${b.interfaces.cli.commands.length} commands)"] --> harness`,
    `  slack["Slack (${b.interfaces.slack.mode})"] --> harness`,
    `  harness["Harness ${b.version}"] --> policy["policy ${b.policy.version}"]`,
    `  harness --> model["model ${b.runtime.model}"]`,
    `  harness --> store[("store: ${b.store.total} run(s)")]`,
    '  subgraph roles',
    ...b.roles.map((r) => `    ${mermaidId('role', r.name)}["${r.name}${r.default ? ' (default)' : ''}"]`),
    '  end',
    '  harness --> roles',
    '  subgraph tools',
    ...b.tools.map((t) => `    ${mermaidId('tool', t.name)}["${t.name} (${t.category}, ${t.risk})"]`),
    '  end',
    ...b.tools.map((t) => {
      const decisions = [...new Set(Object.values(t.decisionByRole))].sort().join('/');
      return `  policy -- "${decisions}" --> ${mermaidId('tool', t.name)}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
