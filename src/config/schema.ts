/**
 * The configuration contract (DESIGN.md §10): `config.yaml` validated strictly, plus secrets and a
 * few settings from the environment. Unknown keys fail startup with their key path named.
 */
import { z } from 'zod';
import { ExternalMcpServers } from '../mcp/external/config.ts';
import { PolicyConfig } from '../policy/types.ts';

export const ModelConfig = z.strictObject({
  /** `scripted` is the offline default; `openai` speaks Chat Completions to any compatible server. */
  provider: z.enum(['scripted', 'openai']).default('scripted'),
  name: z.string().min(1).default('gpt-4o-mini'),
  baseUrl: z.url().optional(),
  /** YAML scenarios for the scripted model, relative to the config file. */
  scenarios: z.string().min(1).default('scenarios/default.yaml'),
  timeoutMs: z.int().positive().default(60_000),
  maxRetries: z.int().nonnegative().max(10).default(2),
});

export const BudgetConfig = z.strictObject({
  maxTurns: z.int().positive().default(20),
  maxToolCalls: z.int().positive().default(40),
  maxWallMs: z.int().positive().default(10 * 60 * 1000),
  maxTokens: z.int().positive().default(200_000),
  /** Malformed tool calls in a row before the run fails with `ModelBehaviorError` (P12). */
  maxConsecutiveInvalid: z.int().positive().default(3),
  toolTimeoutMs: z.int().positive().default(30_000),
  /** A task or message longer than this is refused before any model call (P18). */
  maxInputChars: z.int().positive().default(20_000),
  /** Tool-call arguments longer than this are a malformed call (P12). */
  maxArgumentsBytes: z.int().positive().default(64 * 1024),
  /** Runs one user may have queued or running at once; more are refused with a clear message (P18). */
  maxActiveRunsPerUser: z.int().positive().default(3),
  /** Runs one Slack channel may have queued or running at once (P18). */
  maxActiveRunsPerChannel: z.int().positive().default(10),
  /** Model tokens (input + output) one user's runs may use per UTC day (P18). */
  dailyTokensPerUser: z.int().positive().default(2_000_000),
  /**
   * Tasks (root runs) running at once in this process; more wait `queued` in FIFO order with a
   * visible position (sub-agents share their root's slot). docs/architecture/agents.md.
   */
  maxConcurrentRuns: z.int().positive().max(10_000).default(8),
  /**
   * Token budget (≈ 4 characters each) of the earlier run's context a follow-up in the same thread
   * carries: its request, result, later messages and tool results, included once in the new task.
   */
  followUpContextTokens: z.int().nonnegative().max(50_000).default(1500),
});

/**
 * Sub-agent limits and the monitor (issue C). A draft over a limit is refused with a clear,
 * model-visible error; nothing is created.
 */
export const AgentsConfig = z.strictObject({
  /** Deepest sub-agent allowed: the root run is depth 0, its children 1, grandchildren 2. */
  maxDepth: z.int().nonnegative().max(5).default(2),
  /** Sub-agents one run may have queued, running or waiting at once (finished ones do not count). */
  maxChildrenPerRun: z.int().positive().max(50).default(5),
  /** Model tokens (input + output) a whole tree may have used before it may draft another agent. */
  maxTreeTokens: z.int().positive().default(1_000_000),
  /** Upper bound of one `await_agent` call; the tool's own timeout is set just above it. */
  maxAwaitSeconds: z.int().positive().max(3600).default(600),
  /** Character budget of `get_task_context` (root task, own task, finished children's results). */
  contextChars: z.int().positive().max(100_000).default(8000),
  monitor: z
    .strictObject({
      /** A running run with no new event for this long is stalled (an in-flight await_agent excepted). */
      stallMs: z.int().positive().default(300_000),
      /** Identical tool calls (same tool, same arguments) within the window: warn, then stop. */
      loopWarnAt: z.int().min(2).default(3),
      loopStopAt: z.int().min(2).default(5),
      /** How many recent steps the loop detector looks at. */
      window: z.int().min(2).max(100).default(10),
    })
    .default({ stallMs: 300_000, loopWarnAt: 3, loopStopAt: 5, window: 10 }),
});
export type AgentsConfig = z.infer<typeof AgentsConfig>;

/**
 * The harness as an MCP server for external clients (issue D, docs/architecture/mcp-server.md):
 * Streamable HTTP at `/mcp`, started with the bot when `enabled`. Client tokens come from the
 * environment only (`HARNESS_MCP_TOKENS`, `MCP_HTTP_TOKEN`), never from this file.
 */
export const McpServerConfig = z.strictObject({
  enabled: z.boolean().default(false),
  /** Bind address; loopback by default. Any other address needs `allowedHosts`. */
  host: z.string().min(1).default('127.0.0.1'),
  /** 0 picks a free port (tests). */
  port: z.int().min(0).max(65_535).default(3100),
  /** Host header names (no port) accepted besides the loopback names; others get 403 (DNS rebinding). */
  allowedHosts: z.array(z.string().min(1).max(253)).default([]),
  /** Exact `Origin` values accepted; a request carrying any other Origin gets 403. Non-browser clients send none. */
  allowedOrigins: z.array(z.string().min(1).max(300)).default([]),
  /** Per client token: a bucket of `burst` HTTP requests refilled at `requestsPerMinute`; over it → 429. */
  rateLimit: z
    .strictObject({
      requestsPerMinute: z.int().positive().max(100_000).default(120),
      burst: z.int().positive().max(10_000).default(30),
    })
    .default({ requestsPerMinute: 120, burst: 30 }),
  /** Upper bound of one tool call (await_agent: its own timeout_seconds, capped by agents.maxAwaitSeconds). */
  toolTimeoutMs: z.int().positive().max(600_000).default(30_000),
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: z.int().positive().max(16 * 1024 * 1024).default(1024 * 1024),
});
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/** The harness's own MCP tools (issue C): which role categories get the lifecycle tools. */
export const McpConfig = z.strictObject({
  /** Role categories whose runs get draft_agent / await_agent / kill_agent besides the read-only three. */
  fullAccessCategories: z.array(z.enum(['conversational', 'worker', 'reviewer'])).default(['conversational']),
  /** The external MCP server (issue D item 1). */
  server: McpServerConfig.default(McpServerConfig.parse({})),
  /** External MCP servers whose tools roles may use, as `server__tool` (issue D item 2; docs/architecture/mcp-external.md). */
  servers: ExternalMcpServers,
});
export type McpConfig = z.infer<typeof McpConfig>;

/**
 * The router (issue C; docs/architecture/routing.md): which role a Slack message goes to, and how
 * messages to a busy thread are queued and merged. The roles named here are checked against the
 * roles folder at bot startup (an unknown one fails startup naming `routing.channels.<id>`).
 */
export const RoutingConfig = z.strictObject({
  /** Slack channel id → role for new tasks started there (`role: task` and `as role` still win). */
  channels: z.record(z.string().regex(/^[CDG][A-Z0-9_]{1,40}$/), z.string().min(1)).default({}),
  /** Follow-ups to one thread arriving within this window of each other are merged into one task. */
  debounceMs: z.int().nonnegative().max(60_000).default(1500),
});
export type RoutingConfig = z.infer<typeof RoutingConfig>;

/**
 * Optional Slack identity checks (the tokens and the mode come from the environment). A click or
 * submission from another workspace or app is refused (DESIGN.md §3). `teamId` defaults to the
 * team `auth.test` reports at startup; without `appId` the first payload that arrives over the
 * authenticated transport pins it (docs/architecture/slack-ingress.md §14).
 */
export const SlackFileConfig = z.strictObject({
  teamId: z.string().regex(/^[TE][A-Z0-9_]{1,40}$/).optional(),
  appId: z.string().regex(/^A[A-Z0-9_]{1,40}$/).optional(),
});
export type SlackFileConfig = z.infer<typeof SlackFileConfig>;

export const FileConfig = z.strictObject({
  /** Where run files, the index, the audit log and the lock live. */
  dataDir: z.string().min(1).default('data'),
  workspace: z
    .strictObject({
      /** The folder the workspace_* tools read and write; nothing outside it is touched. */
      root: z.string().min(1).default('workspace'),
    })
    .default({ root: 'workspace' }),
  model: ModelConfig.default(ModelConfig.parse({})),
  budgets: BudgetConfig.default(BudgetConfig.parse({})),
  roles: z
    .strictObject({
      dir: z.string().min(1).default('roles'),
      default: z.string().min(1).default('writer'),
    })
    .default({ dir: 'roles', default: 'writer' }),
  policy: PolicyConfig.default(PolicyConfig.parse({})),
  agents: AgentsConfig.default(AgentsConfig.parse({})),
  mcp: McpConfig.default(McpConfig.parse({})),
  routing: RoutingConfig.default(RoutingConfig.parse({})),
  slack: SlackFileConfig.default({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type FileConfig = z.infer<typeof FileConfig>;

/** Secrets: only ever from the environment, never printed, never persisted. */
export interface Secrets {
  slackBotToken?: string;
  slackAppToken?: string;
  slackSigningSecret?: string;
  openaiApiKey?: string;
  mcpHttpToken?: string;
  /** `HARNESS_MCP_TOKENS` as given (`name:level:token,…`); parsed by `mcpClientTokens()` in load-config. */
  mcpTokens?: string;
}

/** How the bot reaches Slack (DESIGN.md §8); from the environment only. */
export interface SlackSettings {
  /**
   * `socket` when `SLACK_APP_TOKEN` is set (or `SLACK_MODE=socket`), `http` with `SLACK_MODE=http`,
   * `local` (the loopback workspace) when no Slack token is set or `SLACK_MODE=local`.
   */
  mode: 'socket' | 'http' | 'local';
  /** `SLACK_API_URL`: where the WebClient sends Web API calls (a Slack-compatible server), or null for Slack. */
  apiUrl: string | null;
  /** `PORT`: the HTTP receiver's port in `http` mode and the local workspace's port in `local` mode. */
  port: number;
  /** True when `SLACK_MODE` set the mode (absent when it was inferred from the tokens). */
  explicit?: boolean;
  /** `slack.teamId` in the config file: the only workspace whose payloads are accepted. */
  teamId?: string;
  /** `slack.appId` in the config file: the only app whose payloads are accepted. */
  appId?: string;
}

/** The validated, resolved configuration every module receives. */
export interface HarnessConfig extends Omit<FileConfig, 'dataDir' | 'workspace' | 'slack'> {
  /** Absolute path of the config file that was read (or would have been). */
  configPath: string;
  /** Absolute. */
  dataDir: string;
  /** Absolute. */
  workspaceRoot: string;
  /** Absolute path of the roles folder. */
  rolesDir: string;
  /** Absolute path of the scripted model's scenarios file. */
  scenariosPath: string;
  secrets: Secrets;
  slack: SlackSettings;
  /** Test hook (RELIABILITY.md rig): the named crash point at which the process SIGKILLs itself. */
  crashAt: string | null;
}
