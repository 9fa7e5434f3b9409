/**
 * `harness doctor`: is this harness usable? The configuration (secret-free), the model (scripted,
 * or a round trip to the OpenAI-compatible provider), and the store (data dir readable, lock
 * holder, runs, corrupt or quarantined files, audit chain). Never creates anything and never
 * crashes on an unreachable provider; exit 0 when everything is ok (or scripted), else 1.
 */
import { constants, existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConfigDescription, describeConfig, formatConfigDescription } from '../../config/load-config.ts';
import type { HarnessConfig } from '../../config/schema.ts';
import { buildCatalogs } from '../../app/create-runtime.ts';
import { type ExternalMcpInspection, inspectExternalMcp } from '../../mcp/external/inspect.ts';
import { createLogger } from '../../shared/logger.ts';
import type { DoctorReport } from '../../model/doctor.ts';
import { asBotError } from '../../shared/errors.ts';
import { type LockHolder, readDataDirLock } from '../../store/data-dir-lock.ts';
import { LowdbRunStore, loadStoreReport } from '../../store/lowdb-run-store.ts';
import { verifyAuditText } from '../../trace/audit-log.ts';
import type { CommandSpec } from '../command.ts';
import { loadCliConfig } from '../context.ts';
import { alignRows } from '../output.ts';

/** The longest the doctor waits for the provider. */
export const DOCTOR_TIMEOUT_MS = 10_000;

export interface StoreCheck {
  ok: boolean;
  dataDir: string;
  exists: boolean;
  readable: boolean;
  lock: (Omit<LockHolder, 'token'> & { note: string }) | null;
  lockError: string | null;
  runs: number;
  corrupt: { file: string; message: string }[];
  quarantined: string[];
  strayTemps: string[];
  audit: { entries: number; ok: boolean; brokenAt: number | null; reason: string | null; tornLines: number[] } | null;
  problems: string[];
}

export interface DoctorResult {
  ok: boolean;
  config: ConfigDescription;
  model: DoctorReport;
  store: StoreCheck;
  /** Each configured external MCP server, connected once (issue D). */
  mcpServers: ExternalMcpInspection;
}

/** Checks the data directory read-only. Never throws: problems are listed. */
export async function checkStore(dataDir: string): Promise<StoreCheck> {
  const check: StoreCheck = {
    ok: true,
    dataDir,
    exists: existsSync(dataDir),
    readable: false,
    lock: null,
    lockError: null,
    runs: 0,
    corrupt: [],
    quarantined: [],
    strayTemps: [],
    audit: null,
    problems: [],
  };
  if (!check.exists) return check; // created by the first write; nothing to check yet
  try {
    await access(dataDir, constants.R_OK | constants.X_OK);
    check.readable = true;
  } catch (error) {
    check.problems.push(`data directory is not readable: ${asBotError(error).message}`);
    check.ok = false;
    return check;
  }
  try {
    const holder = await readDataDirLock(dataDir);
    if (holder !== null) {
      const { token: _token, ...shown } = holder;
      check.lock = { ...shown, note: holder.alive ? 'held by a live process (CLI writes are refused meanwhile)' : 'stale (the next writer takes it)' };
    }
  } catch (error) {
    check.lockError = asBotError(error).message;
    check.problems.push(check.lockError);
  }
  try {
    const store = await LowdbRunStore.open({ dataDir, lock: false });
    try {
      check.runs = (await store.list()).length;
    } finally {
      await store.close();
    }
    const report = await loadStoreReport(dataDir);
    check.corrupt = report.corrupt.map((c) => ({ file: c.file, message: c.error.message }));
    check.quarantined = report.quarantined;
    check.strayTemps = report.strayTemps;
    for (const c of check.corrupt) check.problems.push(`corrupt run file ${c.file}: ${c.message}`);
    for (const q of check.quarantined) check.problems.push(`quarantined run file ${q} (restore its .bak or move it out of runs/)`);
  } catch (error) {
    check.problems.push(`store: ${asBotError(error).message}`);
  }
  try {
    const text = await readFile(join(dataDir, 'audit.jsonl'), 'utf8');
    const verified = verifyAuditText(text);
    check.audit = { entries: verified.entries, ok: verified.ok, brokenAt: verified.brokenAt ?? null, reason: verified.reason ?? null, tornLines: verified.tornLines };
    if (!verified.ok) check.problems.push(`audit chain broken at line ${verified.brokenAt ?? '?'}: ${verified.reason ?? ''}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') check.problems.push(`audit log: ${asBotError(error).message}`);
  }
  check.ok = check.problems.length === 0;
  return check;
}

/** Runs every check for `config`. Never throws for an unreachable provider. */
export async function runDoctorChecks(config: HarnessConfig): Promise<DoctorResult> {
  // Loaded on demand so other commands do not pay for the model SDK.
  const { runDoctor } = await import('../../model/doctor.ts');
  const model = await runDoctor({
    provider: config.model.provider,
    name: config.model.name,
    ...(config.model.baseUrl === undefined ? {} : { baseUrl: config.model.baseUrl }),
    ...(config.secrets.openaiApiKey === undefined ? {} : { apiKey: config.secrets.openaiApiKey }),
    timeoutMs: Math.min(config.model.timeoutMs, DOCTOR_TIMEOUT_MS),
    scenariosPath: config.scenariosPath,
  });
  const store = await checkStore(config.dataDir);
  const modelOk = model.status === 'ok' || model.status === 'scripted';
  const mcpServers = await checkMcpServers(config);
  return { ok: modelOk && store.ok && mcpServers.problems.length === 0, config: describeConfig(config), model, store, mcpServers };
}

/** Connects each `mcp.servers` entry once and lists its tools; never throws for an unreachable one. */
export async function checkMcpServers(config: HarnessConfig): Promise<ExternalMcpInspection> {
  let catalogs: ReturnType<typeof buildCatalogs>;
  try {
    catalogs = buildCatalogs(config);
  } catch (error) {
    return { servers: [], problems: [`cannot check MCP servers: ${asBotError(error).message}`], warnings: [] };
  }
  return inspectExternalMcp(config, catalogs.registry, catalogs.roles, createLogger({ level: 'silent' }));
}

function renderStore(s: StoreCheck): string {
  const rows: string[][] = [['data dir', `${s.dataDir}${s.exists ? '' : ' (not created yet)'}`]];
  if (s.exists) {
    rows.push(['lock', s.lock === null ? 'free' : `pid ${s.lock.pid} on ${s.lock.hostname}: ${s.lock.note}`]);
    rows.push(['runs', String(s.runs)]);
    rows.push(['audit', s.audit === null ? 'no entries yet' : `${s.audit.entries} entries, chain ${s.audit.ok ? 'ok' : 'BROKEN'}`]);
  }
  for (const problem of s.problems) rows.push(['problem', problem]);
  return alignRows(rows);
}

function renderMcpServers(check: ExternalMcpInspection): string {
  const rows: string[][] = check.servers.map((s) => [
    `mcp server ${s.server}`,
    s.state === 'connected' ? `ok (${s.transport}, ${s.tools.length} tools: ${s.tools.map((t) => t.name).join(', ') || 'none'})` : `UNREACHABLE (${s.transport}): ${s.lastError ?? 'unknown error'}`,
  ]);
  if (rows.length === 0) rows.push(['mcp servers', 'none configured (mcp.servers)']);
  for (const problem of check.problems) rows.push(['problem', problem]);
  for (const warning of check.warnings) rows.push(['warning', warning]);
  return alignRows(rows);
}

export const doctorCommand: CommandSpec = {
  name: 'doctor',
  usage: 'harness doctor',
  summary: 'check the configuration, the model provider, the store and each MCP server (exit 1 on a problem)',
  options: {},
  positionals: { min: 0, max: 0, names: '' },
  writes: false,
  async run({ ctx }) {
    const result = await runDoctorChecks(loadCliConfig(ctx));
    const text = [
      formatConfigDescription(result.config),
      '',
      alignRows([
        ['model check', `${result.model.status}: ${result.model.message}`],
        ['store check', result.store.ok ? 'ok' : 'problems'],
      ]),
      renderStore(result.store),
      renderMcpServers(result.mcpServers),
      '',
      result.ok ? 'doctor: ok' : 'doctor: problems found',
    ].join('\n');
    return { data: result, text, exitCode: result.ok ? 0 : 1 };
  },
};
