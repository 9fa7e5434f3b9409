/**
 * The e2e rig of issue B: a real local Slack workspace (`startLocalSlack`) and the real bot
 * (`startBot`: Bolt 5, the ingress, the egress publisher, the lowdb store) on 127.0.0.1, over a tmp
 * copy of the repo's workspace and a tmp data directory, with the offline scripted model and the
 * repo's roles and scenarios.
 *
 * The bot is configured exactly as in production, through `loadConfig` and environment variables
 * (`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN` or `SLACK_SIGNING_SECRET`, `SLACK_API_URL`), using canary
 * token values so P16 can grep every journal, delivery and log line for them. It runs in-process
 * (its log stream captured) or as a child process (`src/main.ts`, for SIGKILL restarts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { startBot, type BotHandle, type StartBotOptions } from '../../../../src/bot/start-bot.ts';
import { readManifest } from '../../../../src/bot/scopes.ts';
import { loadConfig, secretValues } from '../../../../src/config/load-config.ts';
import type { HarnessConfig } from '../../../../src/config/schema.ts';
import { startLocalSlack, type LocalSlack } from '../../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../../src/local-workspace/workspace-state.ts';
import { replayTrace } from '../../../../src/orchestrator/apply-event.ts';
import { createLogger } from '../../../../src/shared/logger.ts';
import { createRedactor } from '../../../../src/shared/redact.ts';
import { RunDoc } from '../../../../src/store/run-schema.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN_PATH = join(REPO_ROOT, 'src', 'main.ts');

/** Canary secrets: none of them may ever appear in a Slack payload, a log line or the store (P16). */
export const CANARY = {
  botToken: 'xoxb-CANARY-e2e-bot-7f3a9c',
  appToken: 'xapp-1-CANARY-e2e-app-2b8d41',
  signingSecret: 'CANARY-e2e-signing-secret-51c0e7',
  openaiKey: 'sk-CANARY-e2e-openai-key-93ad2f',
} as const;
export const CANARY_VALUES: readonly string[] = Object.values(CANARY);

export const REQUESTER = 'U_REQUESTER';
export const APPROVER1 = 'U_APPROVER1';
export const APPROVER2 = 'U_APPROVER2';
export const VIEWER = 'U_VIEWER';
export const CHANNEL = 'C_GENERAL';
/** A task the default scenarios turn into search → read → write (the write needs approval). */
export const REPORT_TASK = 'write a short report on durable execution';
/** The file that task writes, workspace-relative. */
export const REPORT_FILE = 'reports/write-a-short-report-on-durable-execution.md';

/** The manifest's scopes: what the local workspace grants unless a test says otherwise. */
export const MANIFEST_SCOPES: readonly string[] = readManifest().botScopes;

/** A tmp world: config, workspace copy, data dir. */
export interface TmpWorld {
  dir: string;
  configPath: string;
  dataDir: string;
  workspaceRoot: string;
  cleanup(): Promise<void>;
}

/** Writes a config over a copy of the repo's workspace; roles and scenarios are the repo's. */
export async function makeWorld(extraYaml = ''): Promise<TmpWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'slack-e2e-'));
  const workspaceRoot = join(dir, 'workspace');
  // Without reports/: that folder is the scenarios' output (git-ignored), and whatever a local run
  // left there must not look like a side effect of the test.
  await cp(join(REPO_ROOT, 'workspace'), workspaceRoot, { recursive: true, filter: (source) => !source.startsWith(join(REPO_ROOT, 'workspace', 'reports')) });
  const configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    [
      '# Written by test/integration/slack/support/rig.ts',
      'dataDir: data',
      'workspace:',
      '  root: workspace',
      'model:',
      '  provider: scripted',
      `  scenarios: ${JSON.stringify(join(REPO_ROOT, 'scenarios', 'default.yaml'))}`,
      '  maxRetries: 0',
      'roles:',
      `  dir: ${JSON.stringify(join(REPO_ROOT, 'roles'))}`,
      '  default: writer',
      'policy:',
      '  approvers:',
      `    default: [${APPROVER1}, ${APPROVER2}]`,
      '  fourEyes: true',
      '  filesystem:',
      '    roots: [reports]',
      'logLevel: debug',
      // Follow-ups handled as they arrive unless a test sets its own merge window.
      ...(extraYaml.includes('routing:') ? [] : ['routing:', '  debounceMs: 0']),
      extraYaml,
    ].join('\n'),
  );
  return { dir, configPath, dataDir: join(dir, 'data'), workspaceRoot, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The local workspace with the canary tokens (and signing secret, for HTTP delivery). */
export function startServer(options: { grantedScopes?: readonly string[] } = {}): Promise<LocalSlack> {
  return startLocalSlack({
    botToken: CANARY.botToken,
    appToken: CANARY.appToken,
    signingSecret: CANARY.signingSecret,
    grantedScopes: options.grantedScopes ?? MANIFEST_SCOPES,
  });
}

/** The environment a bot gets for `mode` against `server`. */
export function botEnv(world: TmpWorld, server: LocalSlack, mode: 'socket' | 'http'): Record<string, string> {
  return {
    HARNESS_CONFIG: world.configPath,
    SLACK_MODE: mode,
    SLACK_BOT_TOKEN: CANARY.botToken,
    SLACK_API_URL: server.apiUrl,
    PORT: '0',
    OPENAI_API_KEY: CANARY.openaiKey,
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: CANARY.appToken } : { SLACK_SIGNING_SECRET: CANARY.signingSecret }),
  };
}

/** An in-process bot with its log lines. */
export interface TestBot {
  bot: BotHandle;
  config: HarnessConfig;
  logs: string[];
  stop(): Promise<void>;
}

/** Loads the config as production does and starts the bot in-process, logs captured. */
export async function startTestBot(
  world: TmpWorld,
  server: LocalSlack,
  mode: 'socket' | 'http' = 'socket',
  logs: string[] = [],
  extra: Pick<StartBotOptions, 'subagentPostDelayMs' | 'statusIntervalMs'> = {},
): Promise<TestBot> {
  const config = loadConfig({ env: botEnv(world, server, mode), cwd: world.dir });
  const logger = createLogger({
    level: config.logLevel,
    redactor: createRedactor(secretValues(config)),
    destination: { write: (line: string) => void logs.push(line) },
  });
  const bot = await startBot(config, {
    logger,
    retryConfig: { retries: 0 },
    clientPingTimeoutMs: 1000,
    statusIntervalMs: 50,
    sweepIntervalMs: 3_600_000,
    ...extra,
    listen: { host: '127.0.0.1', port: 0 },
  });
  if (mode === 'http') server.setHttpRequestUrl(`http://127.0.0.1:${String(bot.port)}/slack/events`);
  return {
    bot,
    config,
    logs,
    stop: async () => {
      await bot.stop();
      if (mode === 'http') server.setHttpRequestUrl(undefined);
    },
  };
}

/** A bot running `src/main.ts` in a child process. */
export interface ChildBot {
  child: ChildProcess;
  stderr(): string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Spawns `node --import tsx src/main.ts` (the production entry point) in Socket Mode against
 * `server`, and resolves once it is connected (its startup banner logged, after a new socket was opened).
 */
export async function spawnChildBot(world: TmpWorld, server: LocalSlack, timeoutMs = 30_000): Promise<ChildBot> {
  const before = server.calls('apps.connections.open').length;
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, MAIN_PATH], {
    cwd: world.dir,
    env: { PATH: process.env['PATH'] ?? '', ...botEnv(world, server, 'socket'), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!(stderr.includes('slack-harness started') && server.calls('apps.connections.open').length > before)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`bot child exited early:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot child not ready after ${timeoutMs} ms:\n${stderr}`);
    }
    await sleep(25);
  }
  return {
    child,
    stderr: () => stderr,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The `harness_post` key of a bot message (`status`, `gate:<id>`, `result`, …). */
export function postKey(message: StoredMessage): string | undefined {
  const key = message.metadata?.event_payload['key'];
  return typeof key === 'string' ? key : undefined;
}

/** The bot's messages in a thread. */
export function botReplies(server: LocalSlack, channel: string, threadTs: string): StoredMessage[] {
  return server.state.replies(channel, threadTs).filter((m) => m.botId !== undefined);
}

/** The thread's gate cards. */
export function cards(server: LocalSlack, channel: string, threadTs: string): StoredMessage[] {
  return botReplies(server, channel, threadTs).filter((m) => postKey(m)?.startsWith('gate:') === true);
}

/** Action ids of the buttons on a message. */
export function buttonsOf(message: StoredMessage): string[] {
  const ids: string[] = [];
  for (const block of (message.blocks ?? []) as { type?: string; elements?: { type?: string; action_id?: string }[] }[]) {
    if (block.type !== 'actions') continue;
    for (const element of block.elements ?? []) if (element.type === 'button' && element.action_id !== undefined) ids.push(element.action_id);
  }
  return ids;
}

/** Reads, validates and replays a run document from the data directory (P20: replay equals state). */
export async function readRun(dataDir: string, runId: string): Promise<RunDoc> {
  const doc = RunDoc.parse(JSON.parse(await readFile(join(dataDir, 'runs', `${runId}.json`), 'utf8')));
  if (!isDeepStrictEqual(replayTrace(doc.trace), doc.run)) throw new Error(`run ${runId}: replaying the trace does not give the stored state`);
  return doc;
}

/** Every run id in the data directory. */
export async function runIds(dataDir: string): Promise<string[]> {
  try {
    return (await readdir(join(dataDir, 'runs'))).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => f.slice(0, -'.json'.length));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Files under the workspace's `reports/` (the side effects of the report scenario). */
export async function reports(world: TmpWorld): Promise<string[]> {
  try {
    return await readdir(join(world.workspaceRoot, 'reports'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Lines of the audit log (`audit.jsonl`). */
export async function auditEntries(dataDir: string): Promise<Record<string, unknown>[]> {
  try {
    const text = await readFile(join(dataDir, 'audit.jsonl'), 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

let forged = 0;

/** Overrides for {@link forgeClick}. */
export interface ForgedClick {
  user: string;
  channel: string;
  messageTs: string;
  actionId: string;
  value: string;
  teamId?: string;
  appId?: string;
  /** Clicked in this view (App Home or modal) instead of on the message. */
  viewId?: string;
}

/**
 * Delivers a `block_actions` payload the test wrote itself (another team's or app's ids, or a
 * stale card's button that is gone from the message): what an attacker or an old client could send.
 */
export function forgeClick(server: LocalSlack, click: ForgedClick): Promise<unknown> {
  forged += 1;
  const teamId = click.teamId ?? server.state.team.id;
  return server.deliver('interactive', {
    type: 'block_actions',
    user: { id: click.user, username: click.user, name: click.user, team_id: teamId },
    api_app_id: click.appId ?? server.state.appId,
    token: 'forged',
    trigger_id: `forged.${String(forged)}.${String(Date.now())}`,
    team: { id: teamId, domain: 'forged' },
    enterprise: null,
    is_enterprise_install: false,
    ...(click.viewId === undefined
      ? {
          container: { type: 'message', message_ts: click.messageTs, channel_id: click.channel, is_ephemeral: false },
          channel: { id: click.channel, name: 'general' },
        }
      : { container: { type: 'view', view_id: click.viewId } }),
    state: { values: {} },
    actions: [{ action_id: click.actionId, block_id: 'forged', value: click.value, type: 'button', action_ts: server.state.nextTs() }],
  });
}

/** The value of button `actionId` on a message. */
export function buttonValue(message: StoredMessage, actionId: string): string {
  for (const block of (message.blocks ?? []) as { type?: string; elements?: { action_id?: string; value?: string }[] }[]) {
    for (const element of block.elements ?? []) if (element.action_id === actionId && element.value !== undefined) return element.value;
  }
  throw new Error(`no button ${actionId}`);
}

/** Starts a report task by mention and resolves with its thread, run id and card once the card is up. */
export async function mentionUntilCard(
  server: LocalSlack,
  world: TmpWorld,
  text = `<@U_BOT> ${REPORT_TASK}`,
): Promise<{ thread: string; runId: string; card: StoredMessage }> {
  const before = new Set(await runIds(world.dataDir));
  const posted = await server.postUserMessage(REQUESTER, CHANNEL, text);
  const thread = posted.message.ts;
  const card = await eventually(() => cards(server, CHANNEL, thread)[0], 'the approval card', 30_000);
  const runId = (await runIds(world.dataDir)).find((id) => !before.has(id));
  if (runId === undefined) throw new Error('no new run');
  // The card's {channel, ts} is recorded on the gate right after the post; wait for it so a test's
  // "before" snapshot is the settled state.
  await eventually(async () => ((await readRun(world.dataDir, runId)).run.gates[0]?.card === null ? undefined : true), 'the card record');
  return { thread, runId, card };
}

/** Resolves once the in-process bot's ingress has handled at least `count` events in total. */
export function eventsHandled(bot: TestBot, count: number): Promise<true> {
  return eventually(() => (bot.bot.ingress.handled.events >= count ? true : undefined), `${String(count)} handled events`);
}
