/**
 * The configuration contract (DESIGN.md §10): `config.yaml` validated strictly, plus secrets and a
 * few settings from the environment. Unknown keys fail startup with their key path named.
 */
import { z } from 'zod';
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
  /** Model tokens (input + output) one user's runs may use per UTC day (P18). */
  dailyTokensPerUser: z.int().positive().default(2_000_000),
});

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
}

/** The validated, resolved configuration every module receives. */
export interface HarnessConfig extends Omit<FileConfig, 'dataDir' | 'workspace'> {
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
