/**
 * Shared pieces of the Slack benchmarks (issues B and F): the local Slack-compatible workspace in
 * the bench process, the real bot and a bare Bolt app each in a child process of their own (so each
 * has its own event loop, as in production, and the bot's work cannot slow the baseline's), gate
 * cards made by real mentions, Slack-shaped click payloads, a closed-loop load generator and a
 * background load of scripted runs started by mentions.
 *
 * Nothing here talks to the bot except through Slack's wire protocols (signed HTTP, Socket Mode
 * envelopes, Web API calls the bot makes): the bot under test is the one `npm start` runs.
 *
 * `BENCH_CPU_PROF_DIR=<dir>` makes the child processes write V8 CPU profiles there (`--cpu-prof`),
 * to find where a missed target's time went; never set for a recorded run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { readManifest } from '../../src/bot/scopes.ts';
import { buildBlockActionsPayload, type Payload } from '../../src/local-workspace/events.ts';
import type { FaultInjector, FaultSpec } from '../../src/local-workspace/fault-injection.ts';
import { InteractionRegistry } from '../../src/local-workspace/interaction-registry.ts';
import { startLocalSlack, type LocalSlack } from '../../src/local-workspace/server.ts';
import { LocalIds } from '../../src/local-workspace/slack-ids.ts';
import type { StoredMessage } from '../../src/local-workspace/workspace-state.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { type World, makeWorld } from './world.ts';

const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILDREN = fileURLToPath(new URL('./children/', import.meta.url));

/** Bench-only credentials (not secrets: they only ever reach the loopback local workspace). */
export const BENCH_TOKENS = {
  botToken: 'xoxb-bench-local-bot-token',
  appToken: 'xapp-1-bench-local-app-token',
  signingSecret: 'bench-local-signing-secret',
} as const;

export const CHANNEL = 'C_GENERAL';
export const REQUESTER = 'U_REQUESTER';
export const APPROVER = 'U_APPROVER1';
/** The report scenario: search → read → write, the write waits for approval (a gate card). */
export const GATE_TASK = 'write a short report on durable execution';
/** The summarise scenario: search → read → answer, no gate; the background load's runs. */
export const LOAD_TASK = 'summarise the incident notes';

/** The `harness_post` key of a bot message (`status`, `gate:<id>`, `result`, …). */
export function postKey(message: StoredMessage): string | undefined {
  const key = message.metadata?.event_payload['key'];
  return typeof key === 'string' ? key : undefined;
}

/** A result or failure post: the run ended. */
export function isOutcome(message: StoredMessage): boolean {
  const key = postKey(message);
  return key !== undefined && (key === 'failure' || key === 'result' || key.startsWith('result#'));
}

/**
 * The bench world (bench/lib/world.ts: the repo's config, roles and scenarios in a tmp dir) with
 * the per-user, per-channel and daily-token caps (P18) raised, because every benchmark run comes
 * from one requester in one channel and the load keeps 100 of them active at once.
 */
export async function makeSlackWorld(): Promise<World> {
  const world = await makeWorld('harness-bench-slack-');
  try {
    const file = parse(await readFile(world.configPath, 'utf8')) as Record<string, unknown>;
    const budgets = (file['budgets'] ?? {}) as Record<string, unknown>;
    file['budgets'] = { ...budgets, maxActiveRunsPerUser: 100_000, maxActiveRunsPerChannel: 100_000, dailyTokensPerUser: 1_000_000_000_000 };
    await writeFile(world.configPath, `# Written by bench/lib/slack-bench.ts over bench/lib/world.ts\n${stringify(file)}`);
    return world;
  } catch (error) {
    await world.cleanup();
    throw error;
  }
}

/** The local workspace with the bench tokens, the manifest's scopes and a signing secret. */
export function startBenchSlack(): Promise<LocalSlack> {
  return startLocalSlack({ ...BENCH_TOKENS, grantedScopes: readManifest().botScopes });
}

/** Event-loop delay and RSS of a child, as it measured them itself. */
export interface ChildStats {
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssBytes: number;
}

/** A child process speaking the bench protocol (see bench/lib/children/*). */
export interface BenchChild {
  /** HTTP mode: the port it listens on. */
  port: number | null;
  /** Restarts its event-loop delay histogram (bot only). */
  resetStats(): void;
  /** Its event-loop delay since the last reset and its RSS (bot only). */
  stats(): Promise<ChildStats>;
  stderr(): string;
  /** SIGTERM (graceful), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

async function spawnChild(script: string, cwd: string, env: Record<string, string>, timeoutMs = 60_000): Promise<BenchChild> {
  // BENCH_CPU_PROF_DIR=<dir>: the children write V8 CPU profiles there (for explaining a miss).
  const profDir = process.env['BENCH_CPU_PROF_DIR'];
  const prof = profDir === undefined || profDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`];
  const child: ChildProcess = spawn(process.execPath, [...prof, '--import', TSX_IMPORT, join(CHILDREN, script)], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  const statsWaiters: ((stats: ChildStats) => void)[] = [];
  const ready = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${String(code ?? signal)}) before it was ready:\n${stderr}`));
    });
    lines.on('line', (line) => {
      let message: { ready?: boolean; port?: number | null; stats?: ChildStats };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.ready === true) {
        clearTimeout(timer);
        resolve(message.port ?? null);
      }
      if (message.stats !== undefined) statsWaiters.shift()?.(message.stats);
    });
  });
  let port: number | null;
  try {
    port = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    resetStats: () => child.stdin?.write('reset\n'),
    stats: () =>
      new Promise<ChildStats>((resolve) => {
        statsWaiters.push(resolve);
        child.stdin?.write('stats\n');
      }),
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts the real bot (bench/lib/children/bot-child.ts → `startBot`) against `slack` in `mode`,
 * configured through the environment as in production. HTTP mode: `slack`'s Request URL is set to
 * the bot, so mentions are delivered to it signed.
 */
export async function spawnBot(world: World, slack: LocalSlack, mode: 'socket' | 'http'): Promise<BenchChild & { url: string | null }> {
  const child = await spawnChild('bot-child.ts', world.dir, {
    HARNESS_CONFIG: world.configPath,
    SLACK_MODE: mode,
    SLACK_BOT_TOKEN: BENCH_TOKENS.botToken,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: BENCH_TOKENS.appToken } : { SLACK_SIGNING_SECRET: BENCH_TOKENS.signingSecret }),
  });
  const url = mode === 'http' ? `http://127.0.0.1:${String(child.port)}/slack/events` : null;
  if (url !== null) slack.setHttpRequestUrl(url);
  else await slack.socket.waitForConnection(10_000);
  return { ...child, url };
}

/** Starts the bare Bolt baseline (bench/lib/children/bare-bolt-child.ts) in `mode` against `slack`. */
export async function spawnBareBolt(slack: LocalSlack, mode: 'socket' | 'http', cwd: string): Promise<BenchChild & { url: string | null }> {
  const child = await spawnChild('bare-bolt-child.ts', cwd, {
    SLACK_MODE: mode,
    SLACK_BOT_TOKEN: BENCH_TOKENS.botToken,
    SLACK_API_URL: slack.apiUrl,
    BARE_BOT_ID: LocalIds.botId,
    BARE_BOT_USER_ID: LocalIds.botUserId,
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: BENCH_TOKENS.appToken } : { SLACK_SIGNING_SECRET: BENCH_TOKENS.signingSecret }),
  });
  if (mode === 'socket') await slack.socket.waitForConnection(10_000);
  return { ...child, url: mode === 'http' ? `http://127.0.0.1:${String(child.port)}/slack/events` : null };
}

/** Resolves when a message matching a predicate is (or already was) posted or edited in a thread. */
export class ThreadWatcher {
  private readonly waiters = new Map<string, { match: (m: StoredMessage) => boolean; resolve: (m: StoredMessage) => void; cancel: () => void }[]>();
  private readonly unsubscribe: () => void;

  constructor(private readonly slack: LocalSlack) {
    this.unsubscribe = slack.state.onChange((change) => {
      if (change.type !== 'message_posted' && change.type !== 'message_changed') return;
      const { message } = change;
      if (message.threadTs === undefined) return;
      const key = `${message.channel}:${message.threadTs}`;
      const list = this.waiters.get(key);
      if (list === undefined) return;
      const left = list.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
      if (left.length === 0) this.waiters.delete(key);
      else this.waiters.set(key, left);
    });
  }

  /** @throws Error after `timeoutMs`. */
  waitFor(channel: string, threadTs: string, match: (m: StoredMessage) => boolean, what: string, timeoutMs = 60_000): Promise<StoredMessage> {
    const existing = this.slack.state.replies(channel, threadTs).find(match);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const key = `${channel}:${threadTs}`;
      const timer = setTimeout(() => {
        this.waiters.set(
          key,
          (this.waiters.get(key) ?? []).filter((w) => w !== waiter),
        );
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} in thread ${threadTs}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (m: StoredMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
        cancel: () => {
          clearTimeout(timer);
          reject(new Error(`stopped waiting for ${what} in thread ${threadTs}`));
        },
      };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), waiter]);
    });
  }

  /** Stops watching; pending waits reject. */
  close(): void {
    this.unsubscribe();
    const pending = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const waiter of pending) waiter.cancel();
  }
}

/** A gate card as posted (buttons live), and the thread it is in. */
export interface GateCard {
  thread: string;
  card: StoredMessage;
}

/** Mentions the bot with {@link GATE_TASK} and resolves with the card once it is posted. */
export async function mentionUntilCard(slack: LocalSlack, watcher: ThreadWatcher, timeoutMs = 120_000): Promise<GateCard & { ms: number }> {
  const start = performance.now();
  const posted = await slack.postUserMessage(REQUESTER, CHANNEL, `<@${LocalIds.botUserId}> ${GATE_TASK}`);
  const thread = posted.message.ts;
  const card = await watcher.waitFor(CHANNEL, thread, (m) => postKey(m)?.startsWith('gate:') === true, 'the gate card', timeoutMs);
  return { thread, card: structuredClone(card), ms: performance.now() - start };
}

/** `n` gate cards, made by mentions with at most `concurrency` outstanding. */
export async function makeGateCards(slack: LocalSlack, watcher: ThreadWatcher, n: number, concurrency = 10): Promise<GateCard[]> {
  const cards: GateCard[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next += 1;
      const made = await mentionUntilCard(slack, watcher);
      cards.push({ thread: made.thread, card: made.card });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return cards;
}

/**
 * Builds `block_actions` payloads for the Approve button of cards, exactly as the local workspace
 * builds a click (`buildBlockActionsPayload`: Slack's shape, the card message with its metadata,
 * a fresh `trigger_id` per click). Payloads are built before a timed loop so building them is not
 * timed. The trigger ids and response urls come from a registry of the bench's own (the Approve
 * path uses neither; a late click is answered with `chat.postEphemeral`).
 */
export class ClickFactory {
  private readonly registry = new InteractionRegistry(systemClock, 60 * 60 * 1000);

  constructor(private readonly slack: LocalSlack) {}

  approve(card: GateCard, userId = APPROVER): Payload {
    const state = this.slack.state;
    const user = state.requireUser(userId);
    const channel = state.resolveChannel(card.card.channel);
    let found: { blockId: string; button: Record<string, unknown> } | undefined;
    for (const raw of card.card.blocks ?? []) {
      const block = raw as { type?: string; block_id?: string; elements?: Record<string, unknown>[] };
      if (block.type !== 'actions') continue;
      const button = block.elements?.find((e) => e['action_id'] === 'gate_approve');
      if (button !== undefined) found = { blockId: block.block_id ?? '', button };
    }
    if (found === undefined) throw new Error(`card ${card.card.ts} has no Approve button`);
    const value = found.button['value'];
    return buildBlockActionsPayload({ state, registry: this.registry, baseUrl: this.slack.url }, user, { kind: 'message', message: card.card, channel }, {
      action_id: 'gate_approve',
      block_id: found.blockId,
      text: found.button['text'],
      ...(typeof value === 'string' ? { value } : {}),
      ...(typeof found.button['style'] === 'string' ? { style: found.button['style'] } : {}),
    });
  }

  /** `clicks` Approve payloads spread round-robin over `cards` (click i goes to card i mod n). */
  approvals(cards: readonly GateCard[], clicks: number): Payload[] {
    if (cards.length === 0) throw new Error('no cards to click');
    return Array.from({ length: clicks }, (_, i) => this.approve(cards[i % cards.length] as GateCard));
  }
}

/** What a closed loop measured. */
export interface LoopResult {
  /** Per request, milliseconds (successful or not). */
  latencies: number[];
  elapsedMs: number;
  /** Requests that did not get a 2xx answer / an ack, with the reason. */
  errors: string[];
  requestsPerSecond: number;
}

/**
 * A closed loop: `concurrency` workers each send the next item as soon as their previous one was
 * answered, until every item was sent. Throughput is items / wall time.
 */
export async function closedLoop<T>(items: readonly T[], concurrency: number, send: (item: T) => Promise<void>): Promise<LoopResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      const t0 = performance.now();
      try {
        await send(item);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  const elapsedMs = performance.now() - start;
  return { latencies, elapsedMs, errors, requestsPerSecond: (items.length / elapsedMs) * 1000 };
}

/** Sends a signed interaction to `url` (the local workspace's signing); throws on a non-2xx answer. */
export function httpSender(slack: LocalSlack, url: string, timeoutMs = 10_000): (payload: Payload) => Promise<void> {
  const http = slack.http;
  if (http === undefined) throw new Error('the local workspace has no signing secret');
  return async (payload) => {
    const result = await http.postInteraction(url, payload, { timeoutMs });
    if (result.status < 200 || result.status >= 300) throw new Error(`HTTP ${String(result.status)}${result.error === undefined ? '' : ` ${result.error}`}`);
  };
}

/** Sends an `interactive` envelope over `slack`'s Socket Mode connection; resolves on the ack. */
export function socketSender(slack: LocalSlack, timeoutMs = 10_000): (payload: Payload) => Promise<void> {
  return async (payload) => {
    await slack.socket.deliver('interactive', payload, { ackTimeoutMs: timeoutMs });
  };
}

/**
 * A background load of scripted runs: `loops` mention loops, each mentioning the bot with
 * {@link LOAD_TASK} (a run with no gate) and starting its next run when the previous one's result
 * lands in its thread, so about `loops` runs are executing in the bot at any moment.
 */
export class RunLoad {
  private stopped = false;
  private loops: Promise<void>[] = [];
  started = 0;
  completed = 0;
  /** Mentions posted, and those whose event deliveries were not all acked within 3 s. */
  mentions = 0;
  unackedMentions = 0;
  lastDeliveryError: string | undefined;
  readonly failures: string[] = [];
  /** Mention → result, per completed run. */
  readonly runMs: number[] = [];

  constructor(
    private readonly slack: LocalSlack,
    private readonly watcher: ThreadWatcher,
  ) {}

  start(loops: number): void {
    this.loops = Array.from({ length: loops }, () => this.loop());
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const t0 = performance.now();
      try {
        this.started += 1;
        // The mention is stored (and its change emitted) synchronously inside postUserMessage,
        // before the deliveries are awaited: that is how its thread is known even when a delivery
        // is not acknowledged in time (then Slack would retry; the bot has the event already).
        let root: StoredMessage | undefined;
        const off = this.slack.state.onChange((change) => {
          if (root === undefined && change.type === 'message_posted' && change.message.user === REQUESTER && change.message.threadTs === undefined) root = change.message;
        });
        const posting = this.slack.postUserMessage(REQUESTER, CHANNEL, `<@${LocalIds.botUserId}> ${LOAD_TASK}`);
        off();
        this.mentions += 1;
        await posting.catch((error: unknown) => {
          this.unackedMentions += 1;
          this.lastDeliveryError = error instanceof Error ? error.message : String(error);
        });
        if (root === undefined) throw new Error('the mention was not stored');
        await this.watcher.waitFor(CHANNEL, root.ts, isOutcome, 'a load run result', 600_000);
        this.completed += 1;
        this.runMs.push(performance.now() - t0);
      } catch (error) {
        this.failures.push(error instanceof Error ? error.message : String(error));
        if (this.failures.length > 50) return;
      }
    }
  }

  /**
   * Resolves once `n` runs have completed, or after `timeoutMs` with the load running however slow
   * it is (how many completed is reported, not required). @throws when runs keep failing.
   */
  async warm(n: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.completed < n && Date.now() < deadline) {
      if (this.failures.length > 50) throw new Error(`load: runs fail: ${this.failures.slice(0, 3).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops starting runs and waits (at most `timeoutMs`) for the running ones to finish. */
  async stop(timeoutMs = 120_000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.loops), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
}

/**
 * Answers every `every`-th Web API call (other than `except`) with `spec`'s fault, on top of the
 * faults queued through {@link FaultInjector.inject}: a deterministic share of calls, which the
 * queue alone cannot express. Returns the number of faults served and a `stop()`.
 */
export function faultShare(faults: FaultInjector, every: number, spec: Omit<FaultSpec, 'method' | 'times'>, except: readonly string[] = []): { served(): number; stop(): void } {
  const original = faults.take.bind(faults);
  let calls = 0;
  let served = 0;
  let active = true;
  faults.take = (method: string): FaultSpec | undefined => {
    const queued = original(method);
    if (queued !== undefined || !active || except.includes(method)) return queued;
    calls += 1;
    if (calls % every !== 0) return undefined;
    served += 1;
    return { ...spec, method };
  };
  return {
    served: () => served,
    stop: () => {
      active = false;
      faults.take = original;
    },
  };
}

/** Waits until the journal has had no new call for `quietMs` (the bot's coalesced posts settled). */
export async function journalQuiet(slack: LocalSlack, quietMs: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let count = slack.journal.calls().length;
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`the bot was still calling Slack after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = slack.journal.calls().length;
    if (now !== count) {
      count = now;
      since = Date.now();
    }
  }
}

/** The 1-minute load average now, for a "machine load" note (the machine is shared). */
export function loadNow(): number {
  return loadavg()[0] ?? Number.NaN;
}

/** "machine load average (1 min) 3.1 at the start, 6.2 at the end, on 2 CPUs". */
export function loadNote(atStart: number): string {
  return `Machine load average (1 min): ${atStart.toFixed(1)} at the start, ${loadNow().toFixed(1)} at the end, on ${String(cpus().length)} CPUs shared with other jobs; above the CPU count, every figure here includes waiting for a CPU.`;
}
