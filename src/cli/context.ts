/**
 * The two ways a command reaches the harness:
 *
 * - **read** ({@link openReadContext}): config, policy, tools and roles, and the run store opened
 *   WITHOUT the data-dir lock (the bot may be running). It creates nothing on disk: when the data
 *   directory does not exist, the store reads as empty instead of being created.
 * - **write** ({@link applyWrite}): one admin request (src/admin/protocol.ts). While a live bot
 *   holds the data-dir lock, the request goes to the bot over its admin socket and the bot applies
 *   it; otherwise the CLI takes the lock (`createRuntime`) and applies it itself. Both paths call
 *   the same Harness method through `applyAdminRequest`, so the checks are exactly the bot's. When
 *   a live process holds the lock and its socket does not take the request, the command is refused
 *   with the holder's pid.
 */
import { buildCatalogs } from '../app/create-runtime.ts';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { type AdminRequest, type AdminResult, adminSocketPath, applyAdminRequest, callAdminSocket, errorFromWire, parseAdminRequest } from '../admin/index.ts';
import type { RoleCatalog } from '../agents/role-types.ts';
import type { Runtime } from '../app/create-runtime.ts';
import { loadConfig, secretValues } from '../config/load-config.ts';
import type { HarnessConfig } from '../config/schema.ts';
import type { CompiledPolicy } from '../policy/types.ts';
import { ErrorCode, NotFoundError, StoreLockedError, asBotError } from '../shared/errors.ts';
import { type Logger, createLogger } from '../shared/logger.ts';
import { createRedactor } from '../shared/redact.ts';
import { readDataDirLock } from '../store/data-dir-lock.ts';
import { LowdbRunStore } from '../store/lowdb-run-store.ts';
import type { RunListFilter } from '../store/port.ts';
import type { RunDoc, RunIndexEntry } from '../store/run-schema.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { RunRef } from './args.ts';
import type { CliIo } from './output.ts';

/** What every command knows about its invocation. */
export interface CliContext {
  io: CliIo;
  json: boolean;
  /** `--config <path>`; wins over `HARNESS_CONFIG`. */
  configPath?: string;
  /** The command name, for messages. */
  command: string;
}

/** The requester recorded on runs started from the CLI when `--user` is not given (docs/cli.md). */
export const DEFAULT_CLI_USER = 'cli-operator';

/**
 * Loads and validates the configuration the way the bot does.
 * @throws ConfigError naming keys, never values.
 */
export function loadCliConfig(ctx: CliContext): HarnessConfig {
  return loadConfig({
    cwd: ctx.io.cwd,
    ...(ctx.io.env === undefined ? {} : { env: ctx.io.env }),
    ...(ctx.configPath === undefined ? {} : { argvConfigPath: ctx.configPath }),
  });
}

/** Read access to runs. */
export interface RunReader {
  list(filter?: RunListFilter): Promise<RunIndexEntry[]>;
  get(runId: string): Promise<RunDoc | undefined>;
  close(): Promise<void>;
}

/** What read commands get: no lock, no model, nothing created on disk. */
export interface ReadContext {
  config: HarnessConfig;
  policy: CompiledPolicy;
  registry: ToolRegistry;
  roles: RoleCatalog;
  runs: RunReader;
  /** False when the data directory does not exist yet (then `runs` is empty). */
  dataDirExists: boolean;
}

const EMPTY_READER: RunReader = {
  list: async () => [],
  get: async () => undefined,
  close: async () => undefined,
};

/**
 * The store opened read-only (no lock, nothing created), or an empty reader when the data
 * directory does not exist yet. The caller closes it.
 */
export async function openRunReader(config: Pick<HarnessConfig, 'dataDir'>): Promise<RunReader> {
  return existsSync(config.dataDir) ? await LowdbRunStore.open({ dataDir: config.dataDir, lock: false }) : EMPTY_READER;
}

/**
 * Opens the store read-only (or an empty view when the data directory is missing) and runs `fn`.
 * @throws ConfigError for a bad configuration; whatever `fn` throws.
 */
export async function withReadContext<T>(ctx: CliContext, fn: (read: ReadContext) => Promise<T>): Promise<T> {
  const config = loadCliConfig(ctx);
  const catalogs = buildCatalogs(config);
  const dataDirExists = existsSync(config.dataDir);
  const runs = await openRunReader(config);
  try {
    return await fn({ config, ...catalogs, runs, dataDirExists });
  } finally {
    await runs.close();
  }
}

/**
 * The run a {@link RunRef} names: the newest by `createdAt` for `--latest`.
 * @throws NotFoundError `run_not_found` ("run X not found", or "there are no runs" for `--latest`).
 */
export async function resolveRun(runs: RunReader, ref: RunRef): Promise<RunDoc> {
  const runId = ref.kind === 'id' ? ref.runId : await latestRunId(runs);
  const doc = await runs.get(runId);
  if (!doc) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`, { runId });
  return doc;
}

async function latestRunId(runs: RunReader): Promise<string> {
  const entries = await runs.list();
  let newest: RunIndexEntry | undefined;
  for (const entry of entries) {
    if (newest === undefined || entry.createdAt > newest.createdAt || (entry.createdAt === newest.createdAt && entry.runId > newest.runId)) {
      newest = entry;
    }
  }
  if (newest === undefined) throw new NotFoundError(ErrorCode.RunNotFound, 'there are no runs yet (--latest needs one)');
  return newest.runId;
}

/**
 * The logger of CLI runtimes: stderr (never stdout, which carries the command's output), secrets
 * redacted, and at least `warn` so routine info lines do not bury the one-line result.
 */
export function cliLogger(config: HarnessConfig): Logger {
  const quiet = ['fatal', 'error', 'warn', 'silent'].includes(config.logLevel);
  return createLogger({ level: quiet ? config.logLevel : 'warn', redactor: createRedactor(secretValues(config)) });
}

/**
 * Resolves `ref` read-only first (so an unknown or missing run creates nothing, not even the data
 * directory), builds the request for the run's id and applies it: through the running bot's admin
 * socket when a live bot holds the data-dir lock, otherwise under the lock in this process.
 * @throws UsageError for an invalid request (exit 2); the Harness's typed errors, whichever
 * process raised them; StoreLockedError when a live process owns the data directory and its
 * admin socket is missing or does not answer.
 */
export async function applyWrite(ctx: CliContext, ref: RunRef | undefined, build: (runId: string | undefined) => AdminRequest): Promise<AdminResult> {
  const config = loadCliConfig(ctx);
  let runId: string | undefined;
  if (ref !== undefined) {
    const runs = await openRunReader(config);
    try {
      runId = (await resolveRun(runs, ref)).run.runId;
    } finally {
      await runs.close();
    }
  }
  const request = parseAdminRequest(build(runId));
  const viaBot = await sendToBot(config, request);
  if (viaBot.kind === 'answered') return viaBot.result;
  const runtime = await openWritable(ctx, config, viaBot.note);
  try {
    return await applyAdminRequest(runtime.harness, request);
  } finally {
    await runtime.close();
  }
}

type BotAttempt = { kind: 'answered'; result: AdminResult } | { kind: 'not-sent'; note?: string };

/**
 * Hands `request` to the bot when a live process on this host holds the lock. Returns `not-sent`
 * when there is no live holder or its socket could not be reached (nothing was applied).
 */
async function sendToBot(config: HarnessConfig, request: AdminRequest): Promise<BotAttempt> {
  const holder = await readDataDirLock(config.dataDir).catch(() => null);
  if (holder === null || !holder.alive || holder.hostname !== hostname()) return { kind: 'not-sent' };
  const path = adminSocketPath(config.dataDir);
  let delivery;
  try {
    // The bot drives the run until it pauses or ends, as this process would: bounded by the run's wall-time budget.
    delivery = await callAdminSocket(path, request, { timeoutMs: config.budgets.maxWallMs + 60_000 });
  } catch (error) {
    if (error instanceof StoreLockedError) {
      throw new StoreLockedError(`the bot (pid ${holder.pid}) owns ${config.dataDir}, and ${error.message}`, { cause: error, details: { ...error.details, pid: holder.pid } });
    }
    throw error;
  }
  if (!delivery.delivered) return { kind: 'not-sent', note: delivery.reason };
  if (!delivery.response.ok) throw errorFromWire(delivery.response.error);
  return { kind: 'answered', result: delivery.response.result };
}

/**
 * `createRuntime` with the lock, or a refusal naming who owns the data directory.
 * @param adminNote why the owner's admin socket did not take the request, for the refusal.
 * @throws StoreLockedError "the bot (pid N) owns <dataDir>; ..." when a live process holds it.
 */
export async function openWritable(ctx: CliContext, config: HarnessConfig, adminNote?: string): Promise<Runtime> {
  // Loaded on demand: the runtime pulls in the model SDKs, which read commands never need.
  const { createRuntime } = await import('../app/create-runtime.ts');
  try {
    return await createRuntime(config, { lock: true, logger: cliLogger(config) });
  } catch (error) {
    if (!(error instanceof StoreLockedError)) throw error;
    throw new StoreLockedError(await lockedMessage(ctx.command, config.dataDir, error, adminNote), { cause: error, details: error.details });
  }
}

async function lockedMessage(command: string, dataDir: string, error: StoreLockedError, adminNote: string | undefined): Promise<string> {
  let pid: unknown = error.details['pid'];
  if (typeof pid !== 'number') {
    pid = await readDataDirLock(dataDir).then(
      (holder) => holder?.pid,
      (readError: unknown) => asBotError(readError).message,
    );
  }
  const who = typeof pid === 'number' ? `the bot (pid ${pid})` : 'another harness process';
  const socket = adminNote === undefined ? '' : ` Its admin socket did not take the request: ${adminNote}.`;
  return (
    `${who} owns ${dataDir}; "harness ${command}" changes runs and needs the data-dir lock or the bot's admin socket.${socket} ` +
    `Decide in Slack while the bot runs, or stop the bot and run the command again (read commands work meanwhile). ` +
    `(${error.message})`
  );
}
