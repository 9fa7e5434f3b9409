/**
 * Trace-aware evals (`harness evals`). A fixture file lists cases; each case starts a run in a
 * fresh temporary data directory over a temporary COPY of the configured workspace (the real
 * data directory and workspace are never touched), with the configured model, decides its gates
 * as the case says, and checks the outcome. Check names follow the seed's evals (`status`,
 * `event:<name>`, `min_trace_events`) so fixtures written against it carry over.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { HarnessConfig } from '../config/schema.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import type { Logger } from '../shared/logger.ts';
import { UsageError, asBotError } from '../shared/errors.ts';
import { RunStatus, TraceEventName, type RunDoc } from '../store/run-schema.ts';
import { type TraceSummary, buildTraceSummary } from '../trace/trace-summary.ts';

/** The requester of eval runs unless a case names one. */
export const EVAL_USER = 'cli-operator';
/** Gate decisions per case before the runner gives up (a model that keeps asking). */
export const MAX_DECISIONS = 10;

const WorkspacePath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !normalize(p).split(sep).includes('..') && !p.includes('\0'), {
    message: 'must be a workspace-relative path without ".."',
  });

/** One eval case (docs/cli.md lists every field). */
export const EvalCase = z
  .strictObject({
    name: z.string().min(1),
    task: z.string().min(1),
    role: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    approve_as: z.string().min(1).optional(),
    reject_as: z.string().min(1).optional(),
    reject_reason: z.string().min(1).optional(),
    expected_status: RunStatus,
    expected_gate_tool: z.string().min(1).nullable().optional(),
    required_events: z.array(TraceEventName).default([]),
    forbidden_events: z.array(TraceEventName).default([]),
    min_trace_events: z.int().nonnegative().optional(),
    expect_files: z.array(WorkspacePath).default([]),
    expect_no_files: z.array(WorkspacePath).default([]),
    expected_result_contains: z.string().min(1).optional(),
  })
  .refine((c) => c.approve_as === undefined || c.reject_as === undefined, { message: 'give approve_as or reject_as, not both' })
  .refine((c) => c.reject_as === undefined || c.reject_reason !== undefined, { message: 'reject_as needs reject_reason' });
export type EvalCase = z.infer<typeof EvalCase>;

const EvalFile = z.union([z.array(EvalCase).min(1), z.strictObject({ cases: z.array(EvalCase).min(1) })]);

export interface EvalCheck {
  name: string;
  passed: boolean;
  expected: unknown;
  actual: unknown;
}

export interface EvalCaseResult {
  name: string;
  passed: boolean;
  run_id: string | null;
  task: string;
  role: string | null;
  status: string | null;
  checks: EvalCheck[];
  error: { code: string; message: string } | null;
  trace_summary: TraceSummary | null;
  /** The case's temporary folder, when kept (`--keep`). */
  tmp_dir: string | null;
}

export interface EvalSuiteResult {
  fixtures_path: string;
  case_count: number;
  passed: number;
  failed: number;
  results: EvalCaseResult[];
}

/**
 * Reads and validates a fixture file.
 * @throws UsageError naming the file and the first problems (exit 2: the input is wrong).
 */
export function loadEvalFixtures(path: string): EvalCase[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`evals: cannot read fixtures ${path}: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const pos = first?.linePos?.[0];
    throw new UsageError(`evals: ${path} is not valid YAML (${first?.code ?? 'error'}${pos ? ` at line ${pos.line}` : ''})`);
  }
  const parsed = EvalFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`);
    throw new UsageError(`evals: invalid fixtures ${path}: ${problems.join('; ')}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.cases;
}

/** sha256 of a regular file's bytes, or null when there is none. */
async function fileHash(path: string): Promise<string | null> {
  try {
    return sha256Hex(await readFile(path));
  } catch {
    return null;
  }
}

/** Hashes of the files a case expects the run to leave alone, taken before the run. */
async function snapshotFiles(workspaceRoot: string, paths: readonly string[]): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const path of paths) out.set(path, await fileHash(join(workspaceRoot, path)));
  return out;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The checks of one finished case. */
export async function checkCase(
  fixture: EvalCase,
  doc: RunDoc,
  summary: TraceSummary,
  workspaceRoot: string,
  before: ReadonlyMap<string, string | null>,
): Promise<EvalCheck[]> {
  const checks: EvalCheck[] = [];
  const check = (name: string, passed: boolean, expected: unknown, actual: unknown): void => {
    checks.push({ name, passed, expected, actual });
  };
  check('status', doc.run.status === fixture.expected_status, fixture.expected_status, doc.run.status);
  if (fixture.expected_gate_tool !== undefined) {
    const tool = doc.run.gates[0]?.tool ?? null;
    check('gate_tool', tool === fixture.expected_gate_tool, fixture.expected_gate_tool, tool);
  }
  const seen = summary.counts.by_event;
  for (const event of fixture.required_events) check(`event:${event}`, (seen[event] ?? 0) > 0, true, (seen[event] ?? 0) > 0);
  for (const event of fixture.forbidden_events) check(`no_event:${event}`, (seen[event] ?? 0) === 0, false, (seen[event] ?? 0) > 0);
  if (fixture.min_trace_events !== undefined) {
    check('min_trace_events', summary.counts.trace_events >= fixture.min_trace_events, `>=${fixture.min_trace_events}`, summary.counts.trace_events);
  }
  const produced = new Set(doc.run.files.map((f) => normalize(f.path)));
  for (const path of fixture.expect_files) {
    const exists = await fileExists(join(workspaceRoot, path));
    const recorded = produced.has(normalize(path));
    check(`file:${path}`, exists && recorded, 'written by the run', exists ? (recorded ? 'written by the run' : 'exists, not written by the run') : 'missing');
  }
  for (const path of fixture.expect_no_files) {
    const was = before.get(path) ?? null;
    const now = await fileHash(join(workspaceRoot, path));
    const recorded = produced.has(normalize(path));
    const actual = recorded ? 'written by the run' : now === was ? 'untouched' : was === null ? 'created' : now === null ? 'deleted' : 'changed';
    check(`no_file:${path}`, actual === 'untouched', 'untouched', actual);
  }
  if (fixture.expected_result_contains !== undefined) {
    const result = doc.run.result ?? '';
    check('result_contains', result.includes(fixture.expected_result_contains), fixture.expected_result_contains, result);
  }
  return checks;
}

/** Options of {@link runEvalSuite}. */
export interface EvalOptions {
  logger: Logger;
  /** Keep each case's temporary folder (its path is in the result). */
  keep?: boolean;
}

/** Runs one case in its own temporary data directory and workspace copy. Never throws. */
export async function runEvalCase(config: HarnessConfig, fixture: EvalCase, options: EvalOptions): Promise<EvalCaseResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'harness-eval-'));
  const workspaceRoot = join(tmp, 'workspace');
  const result: EvalCaseResult = {
    name: fixture.name,
    passed: false,
    run_id: null,
    task: fixture.task,
    role: null,
    status: null,
    checks: [],
    error: null,
    trace_summary: null,
    tmp_dir: options.keep === true ? tmp : null,
  };
  try {
    if (existsSync(config.workspaceRoot)) await cp(config.workspaceRoot, workspaceRoot, { recursive: true });
    else await mkdir(workspaceRoot);
    const caseConfig: HarnessConfig = { ...config, dataDir: join(tmp, 'data'), workspaceRoot, crashAt: null };
    const { createRuntime } = await import('../app/create-runtime.ts');
    const runtime = await createRuntime(caseConfig, { lock: true, logger: options.logger });
    try {
      const { harness } = runtime;
      const before = await snapshotFiles(workspaceRoot, fixture.expect_no_files);
      let doc = await harness.startRun({
        task: fixture.task,
        ...(fixture.role === undefined ? {} : { role: fixture.role }),
        requestedBy: { userId: fixture.user ?? EVAL_USER, source: 'cli' },
        origin: { kind: 'cli' },
      });
      result.run_id = doc.run.runId;
      for (let i = 0; i < MAX_DECISIONS && doc.run.status === 'waiting_approval'; i += 1) {
        if (fixture.approve_as !== undefined) {
          doc = (await harness.approve({ runId: doc.run.runId, actor: { userId: fixture.approve_as, source: 'cli' } })).doc;
        } else if (fixture.reject_as !== undefined) {
          const reason = fixture.reject_reason ?? '';
          doc = (await harness.reject({ runId: doc.run.runId, actor: { userId: fixture.reject_as, source: 'cli' }, reason })).doc;
        } else {
          break;
        }
      }
      const summary = buildTraceSummary(doc);
      result.role = doc.run.role;
      result.status = doc.run.status;
      result.trace_summary = summary;
      result.checks = await checkCase(fixture, doc, summary, workspaceRoot, before);
      result.passed = result.checks.every((c) => c.passed);
    } finally {
      await runtime.close();
    }
  } catch (error) {
    const bot = asBotError(error);
    result.error = { code: bot.code, message: bot.message };
    result.checks.push({ name: 'error', passed: false, expected: null, actual: bot.message });
    result.passed = false;
  } finally {
    if (options.keep !== true) await rm(tmp, { recursive: true, force: true });
  }
  return result;
}

/** Runs every case of `fixturesPath`, one after the other. */
export async function runEvalSuite(config: HarnessConfig, fixturesPath: string, options: EvalOptions): Promise<EvalSuiteResult> {
  const cases = loadEvalFixtures(fixturesPath);
  const results: EvalCaseResult[] = [];
  for (const fixture of cases) results.push(await runEvalCase(config, fixture, options));
  const passed = results.filter((r) => r.passed).length;
  return { fixtures_path: fixturesPath, case_count: results.length, passed, failed: results.length - passed, results };
}
