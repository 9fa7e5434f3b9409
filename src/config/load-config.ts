/**
 * Reads the configuration once, validates it strictly and fails fast (STYLE.md point 7,
 * DESIGN.md §10). This is the only module that reads `process.env`.
 *
 * Order of precedence, highest first:
 * 1. the process environment (`env`);
 * 2. `<cwd>/.env` (a variable already set in the environment is never overridden by it);
 * 3. the config file (`--config`, else `HARNESS_CONFIG`, else `./config.yaml`);
 * 4. the defaults embedded in `schema.ts`.
 *
 * Error messages name keys and problems, never values: a value may be a secret pasted into the
 * wrong place, and a `ConfigError` is printed at startup.
 *
 * Setting `OPENAI_API_KEY` or `OPENAI_BASE_URL` never switches the provider by itself: the model
 * stays `scripted` until `model.provider: openai` (or `HARNESS_MODEL_PROVIDER=openai`) says so,
 * so a key lying around in a shell never sends a task to a paid API by surprise.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../shared/errors.ts';
import { parseDotenv } from './dotenv.ts';
import { FileConfig, type HarnessConfig, type Secrets, type SlackSettings } from './schema.ts';

/** Environment variables the loader reads, with where they go. Used by `.env.example` tests and `doctor`. */
export const ENV_KEYS = {
  secrets: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET', 'OPENAI_API_KEY', 'MCP_HTTP_TOKEN', 'HARNESS_MCP_TOKENS'],
  settings: [
    'HARNESS_CONFIG',
    'HARNESS_DATA_DIR',
    'HARNESS_MODEL',
    'HARNESS_MODEL_PROVIDER',
    'OPENAI_BASE_URL',
    'LOG_LEVEL',
    'SLACK_MODE',
    'SLACK_API_URL',
    'PORT',
  ],
  testOnly: ['BOT_CRASH_AT'],
} as const;

/** The port used when `PORT` is not set. */
export const DEFAULT_PORT = 3000;

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where `.env` and the default `config.yaml` are looked up; defaults to `process.cwd()`. */
  cwd?: string;
  /** A `--config <path>` from the command line; wins over `HARNESS_CONFIG`. */
  argvConfigPath?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The value of an env var, with empty strings treated as unset (`KEY=` in a `.env` template). */
function envValue(env: Env, key: string): string | undefined {
  const value = env[key];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Parses a boolean environment variable. Only `true`, `false`, `1` and `0` are accepted.
 * @returns `fallback` when the variable is unset or empty.
 * @throws ConfigError naming `key` (never the value) for anything else.
 */
export function parseEnvBoolean(key: string, value: string | undefined, fallback = false): boolean {
  if (value === undefined || value === '') return fallback;
  switch (value.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      throw new ConfigError(`${key}: expected true, false, 1 or 0`);
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '<root>';
  return path
    .map((part, i) => {
      if (typeof part === 'number') return `[${part}]`;
      const key = String(part);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return i === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}

/** A problem description built from the issue's code and schema facts only, never from the input. */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `expected a valid ${issue.format}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `must not be shorter than ${String(issue.minimum)} characters`
        : issue.origin === 'array'
          ? `must have at least ${String(issue.minimum)} items`
          : `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string'
        ? `must not be longer than ${String(issue.maximum)} characters`
        : issue.origin === 'array'
          ? `must have at most ${String(issue.maximum)} items`
          : `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_key':
      return 'invalid key';
    case 'invalid_element':
      return 'invalid element';
    case 'invalid_union':
      return 'does not match any allowed shape';
    default:
      return 'invalid value';
  }
}

/** One line per issue: `<key.path>: <problem>`; unknown keys get one line each. */
function formatIssues(issues: readonly z.core.$ZodIssue[], envSources: ReadonlyMap<string, string>): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) lines.push(`${formatPath([...issue.path, key])}: unknown key`);
      continue;
    }
    const path = formatPath(issue.path);
    const source = envSources.get(path);
    lines.push(`${path}${source === undefined ? '' : ` (from ${source})`}: ${describeIssue(issue)}`);
  }
  return lines;
}

function configErrorFrom(file: string, lines: readonly string[]): ConfigError {
  return new ConfigError(`invalid configuration (${file}):\n${lines.map((l) => `  - ${l}`).join('\n')}`, {
    details: { problems: [...lines] },
  });
}

function readDotenv(cwd: string): Record<string, string> {
  const file = resolve(cwd, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  return parseDotenv(text, file);
}

function readConfigFile(path: string, explicit: boolean): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return {};
    if (code === 'ENOENT') throw new ConfigError(`config file not found: ${path}`);
    throw new ConfigError(`cannot read config file ${path}: ${code ?? 'read error'}`);
  }
  // Never YAML's own message (prettyErrors adds the offending source line, which may hold a
  // secret): only its code and position.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `YAML ${e.code}${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}`;
    });
    throw configErrorFrom(path, lines);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw configErrorFrom(path, ['<root>: expected a mapping of keys']);
  return value;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (child === undefined || child === null) {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    } else if (typeof child === 'object' && !Array.isArray(child)) {
      node = child as Record<string, unknown>;
    } else {
      // Leave the malformed parent for the schema to report under its own key.
      return;
    }
  }
  node[path[path.length - 1] as string] = value;
}

function readSecrets(env: Env): Secrets {
  const secrets: Secrets = {};
  const pairs: [keyof Secrets, string][] = [
    ['slackBotToken', 'SLACK_BOT_TOKEN'],
    ['slackAppToken', 'SLACK_APP_TOKEN'],
    ['slackSigningSecret', 'SLACK_SIGNING_SECRET'],
    ['openaiApiKey', 'OPENAI_API_KEY'],
    ['mcpHttpToken', 'MCP_HTTP_TOKEN'],
    ['mcpTokens', 'HARNESS_MCP_TOKENS'],
  ];
  for (const [field, key] of pairs) {
    const value = envValue(env, key);
    if (value !== undefined) secrets[field] = value;
  }
  return secrets;
}

function readSlack(env: Env, secrets: Secrets, problems: string[]): SlackSettings {
  const rawMode = envValue(env, 'SLACK_MODE')?.trim().toLowerCase();
  let mode: SlackSettings['mode'] = 'local';
  if (rawMode !== undefined) {
    if (rawMode === 'socket' || rawMode === 'http' || rawMode === 'local') mode = rawMode;
    else problems.push('SLACK_MODE: expected one of "socket", "http", "local"');
  } else if (secrets.slackAppToken !== undefined) {
    mode = 'socket';
  } else if (secrets.slackBotToken !== undefined) {
    problems.push('SLACK_BOT_TOKEN is set without SLACK_APP_TOKEN: set SLACK_APP_TOKEN for Socket Mode or SLACK_MODE=http');
  }
  if (mode !== 'local' && secrets.slackBotToken === undefined) problems.push(`SLACK_BOT_TOKEN: required when SLACK_MODE is ${mode}`);
  if (mode === 'socket' && secrets.slackAppToken === undefined) problems.push('SLACK_APP_TOKEN: required for Socket Mode');
  if (mode === 'http' && secrets.slackSigningSecret === undefined) problems.push('SLACK_SIGNING_SECRET: required when SLACK_MODE is http');
  // Swapped tokens are the commonest setup mistake; say so without echoing either token.
  if (secrets.slackBotToken?.startsWith('xapp-')) problems.push('SLACK_BOT_TOKEN: looks like an app-level token (xapp-); expected a bot token (xoxb-)');
  if (secrets.slackAppToken?.startsWith('xox')) problems.push('SLACK_APP_TOKEN: looks like a bot or user token (xox…); expected an app-level token (xapp-)');

  let apiUrl: string | null = null;
  const rawUrl = envValue(env, 'SLACK_API_URL');
  if (rawUrl !== undefined) {
    if (URL.canParse(rawUrl) && /^https?:$/.test(new URL(rawUrl).protocol)) apiUrl = rawUrl;
    else problems.push('SLACK_API_URL: expected an http(s) URL');
  }

  let port = DEFAULT_PORT;
  const rawPort = envValue(env, 'PORT');
  if (rawPort !== undefined) {
    const parsed = /^\d{1,5}$/.test(rawPort.trim()) ? Number(rawPort.trim()) : Number.NaN;
    if (Number.isInteger(parsed) && parsed >= 0 && parsed <= 65_535) port = parsed;
    else problems.push('PORT: expected an integer from 0 to 65535');
  }
  // `explicit` only when SLACK_MODE chose the mode: `npm start` runs the local Slack workspace for an
  // explicit SLACK_MODE=local and keeps the terminal demo when nothing was configured.
  return { mode, apiUrl, port, ...(rawMode === undefined ? {} : { explicit: true }) };
}

/** One MCP client credential (issue D): a name for traces, an access level, and the bearer token. */
export interface McpClientToken {
  /** Shown in traces, logs and the audit log instead of the token. */
  name: string;
  level: 'read' | 'full';
  /** The bearer value; never logged, printed or persisted. */
  token: string;
}

/** Shortest accepted MCP client token. */
export const MIN_MCP_TOKEN_LENGTH = 16;
/** What an MCP client may be called (token names, `harness mcp stdio --client`); traces show it. */
export const MCP_TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/**
 * The MCP client tokens from `HARNESS_MCP_TOKENS` (`name:level:token,…`, level `read` or `full`)
 * plus `MCP_HTTP_TOKEN` as a read-only client named `default`. Pure: reads only `secrets`.
 * @throws ConfigError naming the entry by position and the problem, never its token.
 */
export function mcpClientTokens(secrets: Pick<Secrets, 'mcpTokens' | 'mcpHttpToken'>): McpClientToken[] {
  const out: McpClientToken[] = [];
  const problems: string[] = [];
  const add = (where: string, name: string, level: string, token: string): void => {
    if (!MCP_TOKEN_NAME.test(name)) problems.push(`${where}: the name must be 1-40 letters, digits, '_', '.' or '-'`);
    else if (level !== 'read' && level !== 'full') problems.push(`${where} (${name}): the level must be read or full`);
    else if (token.length < MIN_MCP_TOKEN_LENGTH || /\s/.test(token)) problems.push(`${where} (${name}): the token must be at least ${MIN_MCP_TOKEN_LENGTH} characters without spaces`);
    else if (out.some((t) => t.name === name)) problems.push(`${where}: the name ${name} is used twice`);
    else if (out.some((t) => t.token === token)) problems.push(`${where} (${name}): the same token is given twice`);
    else out.push({ name, level, token });
  };
  const entries = (secrets.mcpTokens ?? '').split(',').map((e) => e.trim());
  entries.forEach((entry, i) => {
    if (entry === '') return;
    const first = entry.indexOf(':');
    const second = first < 0 ? -1 : entry.indexOf(':', first + 1);
    if (second < 0) {
      problems.push(`HARNESS_MCP_TOKENS entry ${i + 1}: expected name:level:token`);
      return;
    }
    add(`HARNESS_MCP_TOKENS entry ${i + 1}`, entry.slice(0, first), entry.slice(first + 1, second), entry.slice(second + 1));
  });
  if (secrets.mcpHttpToken !== undefined) add('MCP_HTTP_TOKEN', 'default', 'read', secrets.mcpHttpToken);
  if (problems.length > 0) throw new ConfigError(problems.join('; '), { details: { problems } });
  return out;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Problems of the `mcp.server` section together with the token variables (never their values). */
function mcpServerProblems(file: FileConfig, secrets: Secrets): string[] {
  const server = file.mcp.server;
  // The tokens are only read by the HTTP endpoint: checked when it is enabled.
  if (!server.enabled) return [];
  let tokens: McpClientToken[];
  try {
    tokens = mcpClientTokens(secrets);
  } catch (error) {
    return [(error as ConfigError).message];
  }
  const problems: string[] = [];
  if (tokens.length === 0) problems.push('mcp.server.enabled: no client token is set (HARNESS_MCP_TOKENS or MCP_HTTP_TOKEN)');
  if (!LOOPBACK_HOSTS.has(server.host) && server.allowedHosts.length === 0) {
    problems.push('mcp.server.allowedHosts: required when mcp.server.host is not a loopback address');
  }
  return problems;
}

function absolute(base: string, path: string): string {
  return isAbsolute(path) ? resolve(path) : resolve(base, path);
}

/**
 * Loads, validates and resolves the configuration.
 *
 * - A missing file at the default path means "all defaults"; a missing file named by
 *   `argvConfigPath` or `HARNESS_CONFIG` is an error.
 * - Relative paths in the file resolve against the file's directory; a relative
 *   `HARNESS_DATA_DIR` resolves against `cwd` (where the operator typed it).
 * - Secrets come only from the environment; empty values count as unset.
 *
 * @throws ConfigError listing every problem as `<key.path>: <problem>` (never a value): YAML syntax
 * errors (line and column), unknown keys, bad values, bad environment overrides, and Slack mode
 * settings that cannot work (e.g. `SLACK_MODE=http` without `SLACK_SIGNING_SECRET`).
 */
export function loadConfig(options: LoadConfigOptions = {}): HarnessConfig {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env: Env = { ...readDotenv(cwd), ...definedOnly(options.env ?? process.env) };

  const explicitPath = options.argvConfigPath ?? envValue(env, 'HARNESS_CONFIG');
  const configPath = resolve(cwd, explicitPath ?? 'config.yaml');
  const configDir = dirname(configPath);
  const raw = structuredClone(readConfigFile(configPath, explicitPath !== undefined)) as Record<string, unknown>;

  const envSources = new Map<string, string>();
  const override = (key: string, path: string[]): boolean => {
    const value = envValue(env, key);
    if (value === undefined) return false;
    setPath(raw, path, value);
    envSources.set(path.join('.'), key);
    return true;
  };
  const dataDirFromEnv = override('HARNESS_DATA_DIR', ['dataDir']);
  override('HARNESS_MODEL', ['model', 'name']);
  override('HARNESS_MODEL_PROVIDER', ['model', 'provider']);
  override('OPENAI_BASE_URL', ['model', 'baseUrl']);
  override('LOG_LEVEL', ['logLevel']);

  const problems: string[] = [];
  const parsed = FileConfig.safeParse(raw);
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, envSources));
  const secrets = readSecrets(env);
  const slack = readSlack(env, secrets, problems);
  if (parsed.success) problems.push(...mcpServerProblems(parsed.data, secrets));
  if (!parsed.success || problems.length > 0) throw configErrorFrom(configPath, problems);

  const file = parsed.data;
  const rolesDir = absolute(configDir, file.roles.dir);
  const scenariosPath = absolute(configDir, file.model.scenarios);
  return {
    configPath,
    dataDir: absolute(dataDirFromEnv ? cwd : configDir, file.dataDir),
    workspaceRoot: absolute(configDir, file.workspace.root),
    rolesDir,
    scenariosPath,
    model: { ...file.model, scenarios: scenariosPath },
    budgets: file.budgets,
    roles: { ...file.roles, dir: rolesDir },
    policy: file.policy,
    agents: file.agents,
    mcp: file.mcp,
    routing: file.routing,
    logLevel: file.logLevel,
    secrets,
    slack: {
      ...slack,
      ...(file.slack.teamId === undefined ? {} : { teamId: file.slack.teamId }),
      ...(file.slack.appId === undefined ? {} : { appId: file.slack.appId }),
    },
    crashAt: envValue(env, 'BOT_CRASH_AT') ?? null,
  };
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/** A secret-free view of the configuration for the startup banner and `harness doctor`. */
export interface ConfigDescription {
  configPath: string;
  dataDir: string;
  workspaceRoot: string;
  rolesDir: string;
  defaultRole: string;
  logLevel: string;
  model: {
    provider: string;
    name: string;
    /** Origin and path only: credentials and query strings are dropped. */
    baseUrl: string | null;
    scenariosPath: string | null;
    note: string;
  };
  slack: { mode: SlackSettings['mode']; apiUrl: string | null; port: number };
  budgets: HarnessConfig['budgets'];
  policy: {
    categories: Record<string, string>;
    toolOverrides: string[];
    roleOverrides: string[];
    filesystemRoots: string[];
    networkAllowHosts: string[];
    defaultApprovers: string[];
    fourEyes: boolean;
    gateTtlMs: number;
    reminderBeforeMs: number;
    rejectEndsRun: boolean;
  };
  /** Each secret's env var → `set` | `not set`. Values are never included. */
  secrets: Record<string, 'set' | 'not set'>;
  crashAt: string | null;
}

function safeUrl(url: string | null | undefined): string | null {
  if (url === undefined || url === null) return null;
  if (!URL.canParse(url)) return '(invalid URL)';
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Summarises `config` without any secret: secrets appear only as `set`/`not set`, URLs lose
 * their credentials and query strings. Safe to print and to return from `doctor --json`.
 */
export function describeConfig(config: HarnessConfig): ConfigDescription {
  const s = config.secrets;
  const scripted = config.model.provider === 'scripted';
  return {
    configPath: config.configPath,
    dataDir: config.dataDir,
    workspaceRoot: config.workspaceRoot,
    rolesDir: config.rolesDir,
    defaultRole: config.roles.default,
    logLevel: config.logLevel,
    model: {
      provider: config.model.provider,
      name: scripted ? 'scripted' : config.model.name,
      baseUrl: scripted ? null : safeUrl(config.model.baseUrl),
      scenariosPath: scripted ? config.scenariosPath : null,
      note: scripted
        ? 'offline scripted model (deterministic scenarios); set model.provider: openai to use a real model'
        : s.openaiApiKey === undefined
          ? 'OpenAI-compatible provider; OPENAI_API_KEY is not set, so the model cannot start (servers that ignore keys still need a placeholder)'
          : 'OpenAI-compatible provider',
    },
    slack: { mode: config.slack.mode, apiUrl: safeUrl(config.slack.apiUrl), port: config.slack.port },
    budgets: config.budgets,
    policy: {
      categories: { ...config.policy.categories } as Record<string, string>,
      toolOverrides: Object.keys(config.policy.tools).sort(),
      roleOverrides: Object.keys(config.policy.roles).sort(),
      filesystemRoots: [...config.policy.filesystem.roots],
      networkAllowHosts: [...config.policy.network.allowHosts],
      defaultApprovers: [...config.policy.approvers.default],
      fourEyes: config.policy.fourEyes,
      gateTtlMs: config.policy.gateTtlMs,
      reminderBeforeMs: config.policy.reminderBeforeMs,
      rejectEndsRun: config.policy.rejectEndsRun,
    },
    secrets: {
      SLACK_BOT_TOKEN: s.slackBotToken === undefined ? 'not set' : 'set',
      SLACK_APP_TOKEN: s.slackAppToken === undefined ? 'not set' : 'set',
      SLACK_SIGNING_SECRET: s.slackSigningSecret === undefined ? 'not set' : 'set',
      OPENAI_API_KEY: s.openaiApiKey === undefined ? 'not set' : 'set',
      MCP_HTTP_TOKEN: s.mcpHttpToken === undefined ? 'not set' : 'set',
    },
    crashAt: config.crashAt,
  };
}

/** Every secret value in `config`, for {@link createRedactor} (`src/shared/redact.ts`). */
export function secretValues(config: Pick<HarnessConfig, 'secrets'>): string[] {
  const values = Object.values(config.secrets).filter((v): v is string => typeof v === 'string' && v.length > 0);
  // Each MCP client token on its own too (the raw variable holds several).
  for (const part of (config.secrets.mcpTokens ?? '').split(',')) {
    const token = part.split(':').slice(2).join(':').trim();
    if (token.length > 0) values.push(token);
  }
  return values;
}

/** The description as aligned `key: value` lines for a human-readable banner. */
export function formatConfigDescription(description: ConfigDescription): string {
  const d = description;
  const secrets = Object.entries(d.secrets)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const lines: [string, string][] = [
    ['config', d.configPath],
    ['data dir', d.dataDir],
    ['workspace', d.workspaceRoot],
    ['roles', `${d.rolesDir} (default ${d.defaultRole})`],
    ['model', `${d.model.provider}${d.model.provider === 'scripted' ? '' : ` ${d.model.name}`}${d.model.baseUrl ? ` @ ${d.model.baseUrl}` : ''}`],
    ['', d.model.note],
    ['slack', `${d.slack.mode}${d.slack.apiUrl ? ` via ${d.slack.apiUrl}` : ''} (port ${d.slack.port})`],
    ['approvers', `${d.policy.defaultApprovers.join(', ') || '(none)'}${d.policy.fourEyes ? ', four-eyes' : ''}`],
    ['secrets', secrets],
    ['log level', d.logLevel],
  ];
  if (d.crashAt !== null) lines.push(['crash at', `${d.crashAt} (test hook)`]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
