/**
 * The tmp-dir world a crash test runs in: a `config.yaml`, a copy of the repo's `workspace/`, a
 * roles folder with one role (`crasher`, every tool), the scenarios of the scripted model, and the
 * two side-effect ledgers. Also the readers the tests judge the result with: run documents
 * (validated and replayed), ledger keys, the lock file and stray temp files.
 *
 * Scenario `crash` ("crash …" tasks) passes every crash point once per gate:
 *   turn 0: ledger_append  (non-idempotent, external_message → gate 1)
 *   turn 1: workspace_write reports/crash-resume.md (idempotent, filesystem_write → gate 2)
 *   turn 2: say DONE_TEXT
 * It has no `on_error`, so a skipped step (its result is an error) still continues the script:
 * a run resolved with `skip` reaches the same terminal state as one that never crashed.
 *
 * Scenario `peek` ("peek …" tasks): ledger_peek (idempotent, read_only → no gate), then say
 * PEEK_TEXT. It exercises the allow path (tool_start written with the policy verdict) and the
 * "idempotent step re-runs with the same key" half of P1.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { type AuditVerifyResult, verifyAuditText } from '../../../src/trace/audit-log.ts';
import { RunDoc } from '../../../src/store/run-schema.ts';

/** The repository root (the fixture copies its `workspace/`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const REQUESTER = 'U_REQUESTER';
export const APPROVERS = ['U_APPROVER1', 'U_APPROVER2'] as const;
/** The report the `crash` scenario writes (workspace-relative). */
export const REPORT_PATH = 'reports/crash-resume.md';
export const DONE_TEXT = 'done: ledger appended and reports/crash-resume.md written';
export const PEEK_TEXT = 'peeked at the ledger';
/** Step ids of the `crash` scenario (turn.index). */
export const LEDGER_STEP = '0.0';
export const WRITE_STEP = '1.0';

const CONFIG_YAML = `# Written by test/integration/crash/fixture.ts
dataDir: data
workspace:
  root: workspace
model:
  provider: scripted
  scenarios: scenarios.yaml
  maxRetries: 0
roles:
  dir: roles
  default: crasher
policy:
  approvers:
    default: [${APPROVERS.join(', ')}]
  fourEyes: true
  filesystem:
    roots: [reports]
logLevel: error
`;

const ROLE_MD = `---
name: crasher
category: worker
description: Drives the crash-resume scenarios (appends to the ledger, writes a report).
tools: '*'
---
You append a note to the ledger, write the crash-resume report, and say that you are done.
`;

const SCENARIOS_YAML = `# Written by test/integration/crash/fixture.ts
scenarios:
  - name: crash
    match: "\\\\bcrash\\\\b"
    steps:
      - calls:
          - name: ledger_append
            args: { note: "{{task}}" }
      - calls:
          - name: workspace_write
            args: { path: "${REPORT_PATH}", content: "# Crash resume\\n\\nTask: {{task}}\\n" }
      - say: "${DONE_TEXT}"
  - name: peek
    match: "\\\\bpeek\\\\b"
    steps:
      - calls:
          - name: ledger_peek
            args: { note: "{{task}}" }
      - say: "${PEEK_TEXT}"
`;

/** One tmp world. Every path is absolute. */
export interface CrashFixture {
  dir: string;
  configPath: string;
  dataDir: string;
  runsDir: string;
  workspaceRoot: string;
  /** Ledger of the non-idempotent `ledger_append`. */
  ledgerFile: string;
  /** Ledger of the idempotent, read-only `ledger_peek`. */
  peekFile: string;
  /** The environment a child needs (the child reads nothing else from its environment). */
  env(crashAt?: string): Record<string, string>;
  cleanup(): Promise<void>;
}

/** Creates a fresh tmp world under `os.tmpdir()`. */
export async function makeCrashFixture(prefix = 'crash-'): Promise<CrashFixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(join(REPO_ROOT, 'workspace'), join(dir, 'workspace'), { recursive: true });
  await mkdir(join(dir, 'roles'));
  await writeFile(join(dir, 'roles', 'crasher.md'), ROLE_MD);
  await writeFile(join(dir, 'scenarios.yaml'), SCENARIOS_YAML);
  await writeFile(join(dir, 'config.yaml'), CONFIG_YAML);
  return fixtureAt(dir);
}

/**
 * A copy of a world taken while no process uses it (its lock released): data, workspace and
 * ledgers included. Every path in it is relative to its folder, so the copy is the same world a
 * restart would find, and cases that share a prefix (start, first approval) need not replay it.
 */
export async function copyFixture(source: CrashFixture, prefix = 'crash-'): Promise<CrashFixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(source.dir, dir, { recursive: true });
  return fixtureAt(dir);
}

function fixtureAt(dir: string): CrashFixture {
  const configPath = join(dir, 'config.yaml');
  const dataDir = join(dir, 'data');
  const ledgerFile = join(dir, 'ledger.jsonl');
  const peekFile = join(dir, 'peek-ledger.jsonl');
  return {
    dir,
    configPath,
    dataDir,
    runsDir: join(dataDir, 'runs'),
    workspaceRoot: join(dir, 'workspace'),
    ledgerFile,
    peekFile,
    env: (crashAt) => ({
      HARNESS_CONFIG: configPath,
      LEDGER_FILE: ledgerFile,
      PEEK_LEDGER_FILE: peekFile,
      ...(crashAt === undefined ? {} : { BOT_CRASH_AT: crashAt }),
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The idempotency keys in a ledger file, in append order (an absent file is an empty ledger). */
export async function ledgerKeys(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => (JSON.parse(line) as { key: string }).key);
}

/** How often each key occurs. */
export function countKeys(keys: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

/** Names of `*.tmp` files directly in `dir` (missing dir: none). */
export async function tmpFilesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => name.endsWith('.tmp'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Stray store temp files: `data/*.tmp` and `data/runs/*.tmp`. */
export async function storeTmpFiles(fx: Pick<CrashFixture, 'dataDir' | 'runsDir'>): Promise<string[]> {
  return [...(await tmpFilesIn(fx.dataDir)), ...(await tmpFilesIn(fx.runsDir)).map((name) => `runs/${name}`)];
}

/** The pid in `data/harness.lock`, or null when there is no lock file. */
export async function lockPid(dataDir: string): Promise<number | null> {
  try {
    const info = JSON.parse(await readFile(join(dataDir, 'harness.lock'), 'utf8')) as { pid: number };
    return info.pid;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The audit chain of a data directory, verified, with its parsed records (torn lines skipped). */
export async function readAudit(dataDir: string): Promise<{ verify: AuditVerifyResult; records: { action: string; gateId?: string; actor: string }[] }> {
  let text = '';
  try {
    text = await readFile(join(dataDir, 'audit.jsonl'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const records: { action: string; gateId?: string; actor: string }[] = [];
  for (const line of text.split('\n')) {
    try {
      records.push(JSON.parse(line) as { action: string; gateId?: string; actor: string });
    } catch {
      // torn or empty line: verifyAuditText reports it
    }
  }
  return { verify: verifyAuditText(text), records };
}

/** A run file that failed validation, with why. */
export interface StoreProblem {
  file: string;
  problem: string;
}

/**
 * Reads every `data/runs/*.json` and `*.json.bak`, validates it with `RunDoc.parse`, and checks
 * P20 on it: `replayTrace(doc.trace)` deep-equals `doc.run`. Also checks, per step, that every
 * `tool_start` carries the key `${runId}:${stepId}` and that no step starts again after `tool_ok`
 * ("no completed step runs again"). Returns the live documents by run id and every problem found.
 * `cache` (path → stat signature) lets a loop skip files that did not change since the last call.
 */
export async function readStore(
  runsDir: string,
  cache?: Map<string, { signature: string; doc: RunDoc }>,
): Promise<{ docs: Map<string, RunDoc>; problems: StoreProblem[]; files: number }> {
  const docs = new Map<string, RunDoc>();
  const problems: StoreProblem[] = [];
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { docs, problems, files: 0 };
    throw error;
  }
  let files = 0;
  for (const name of names.sort()) {
    const live = name.endsWith('.json');
    if (!live && !name.endsWith('.json.bak')) {
      if (!name.endsWith('.tmp')) problems.push({ file: name, problem: 'unexpected file in runs/' });
      continue;
    }
    files += 1;
    const path = join(runsDir, name);
    const info = await stat(path);
    const signature = `${info.ino}:${info.size}:${info.mtimeMs}`;
    const cached = cache?.get(path);
    if (cached?.signature === signature) {
      if (live) docs.set(name.slice(0, -'.json'.length), cached.doc);
      continue;
    }
    const checked = checkRunFile(name, await readFile(path, 'utf8'));
    if ('problem' in checked) {
      problems.push({ file: name, problem: checked.problem });
      continue;
    }
    cache?.set(path, { signature, doc: checked.doc });
    if (live) docs.set(name.slice(0, -'.json'.length), checked.doc);
  }
  return { docs, problems, files };
}

function checkRunFile(name: string, text: string): { doc: RunDoc } | { problem: string } {
  let doc: RunDoc;
  try {
    doc = RunDoc.parse(JSON.parse(text));
  } catch (error) {
    return { problem: `does not validate: ${(error as Error).message.slice(0, 500)}` };
  }
  const fileRunId = name.replace(/\.json(\.bak)?$/, '');
  if (doc.run.runId !== fileRunId) return { problem: `holds run ${doc.run.runId}` };
  let replayed: unknown;
  try {
    replayed = replayTrace(doc.trace);
  } catch (error) {
    return { problem: `replay failed: ${(error as Error).message}` };
  }
  if (!isDeepStrictEqual(replayed, doc.run)) return { problem: 'replayTrace(doc.trace) differs from doc.run (P20)' };
  const finished = new Set<string>();
  for (const event of doc.trace) {
    const stepId = event.stepId;
    if (stepId === undefined) continue;
    if (event.event === 'tool_start') {
      if (finished.has(stepId)) return { problem: `step ${stepId} started again after it succeeded (seq ${event.seq})` };
      const key = event.detail['idempotencyKey'];
      if (key !== `${doc.run.runId}:${stepId}`) return { problem: `step ${stepId} ran with idempotency key ${String(key)}` };
    }
    if (event.event === 'tool_ok') finished.add(stepId);
  }
  return { doc };
}

/** Reads one run document (validated); throws when it is missing or invalid. */
export async function readRun(runsDir: string, runId: string): Promise<RunDoc> {
  return RunDoc.parse(JSON.parse(await readFile(join(runsDir, `${runId}.json`), 'utf8')));
}
