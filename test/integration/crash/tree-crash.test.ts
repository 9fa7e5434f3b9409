/**
 * Crash in the middle of a sub-agent tree (issue C acceptance, P1 for trees): a real child process
 * runs the repo's `pm` scenario until the writer waits for approval and the PM waits in
 * await_agent, and is SIGKILLed there. A second process recovers, the gate is approved, and the
 * tree completes: the PM's interrupted await (idempotent) runs again, the writer writes once, every
 * stored trace replays to its run, and each finished child is recorded on the PM exactly once.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { RunDoc } from '../../../src/store/run-schema.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILD = fileURLToPath(new URL('./tree-child.ts', import.meta.url));

let dir: string | undefined;
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function run(args: string[], cwd: string): { child: ChildProcessWithoutNullStreams; lines: AsyncGenerator<Record<string, unknown>>; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', TSX, CHILD, ...args], {
    cwd,
    env: { PATH: process.env['PATH'] ?? '', HARNESS_CONFIG: join(cwd, 'config.yaml') },
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  async function* lines(): AsyncGenerator<Record<string, unknown>> {
    let buffer = '';
    for await (const chunk of child.stdout) {
      buffer += (chunk as Buffer).toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
      }
    }
  }
  return { child, lines: lines(), exited };
}

async function firstLine(proc: ReturnType<typeof run>): Promise<Record<string, unknown>> {
  const next = await Promise.race([proc.lines.next(), proc.exited.then((e) => ({ done: true as const, value: e }))]);
  if (next.done) throw new Error(`child ended without output: ${JSON.stringify(next.value)}`);
  return next.value;
}

async function loadRuns(dataDir: string): Promise<RunDoc[]> {
  const files = (await readdir(join(dataDir, 'runs'))).filter((f) => f.endsWith('.json'));
  return Promise.all(files.map(async (f) => RunDoc.parse(JSON.parse(await readFile(join(dataDir, 'runs', f), 'utf8')))));
}

describe('crash in the middle of a tree', () => {
  it('SIGKILL while the writer waits for approval and the PM awaits → restart → approve → the tree completes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'harness-tree-crash-'));
    for (const item of ['config.yaml', 'roles', 'scenarios', 'workspace']) await cp(join(REPO, item), join(dir, item), { recursive: true });

    const first = run(['start'], dir);
    const ready = await firstLine(first);
    expect(ready).toMatchObject({ ready: true });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const pmId = String(ready['pmId']);
    const writerId = String(ready['writerId']);

    const before = await loadRuns(join(dir, 'data'));
    const byId = new Map(before.map((d) => [d.run.runId, d]));
    expect(byId.get(pmId)?.run.status).toBe('running');
    expect(byId.get(writerId)?.run.status).toBe('waiting_approval');
    for (const doc of before) expect(replayTrace(doc.trace)).toEqual(doc.run);

    const second = run(['resume', writerId, pmId], dir);
    const out = await firstLine(second);
    const exit = await second.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(out).toMatchObject({ ok: true, status: 'completed' });
    expect(out['recovered']).toContain(pmId);
    expect(String(out['result'])).toContain('The writer (completed)');

    const after = await loadRuns(join(dir, 'data'));
    for (const doc of after) {
      expect(doc.run.status).toBe('completed');
      expect(replayTrace(doc.trace)).toEqual(doc.run);
    }
    const pm = after.find((d) => d.run.runId === pmId)!;
    expect(pm.trace.filter((e) => e.event === 'subagent_finished').map((e) => e.detail['childRunId']).sort()).toEqual([...pm.run.children].sort());
    const interrupted = pm.run.steps.find((s) => s.stepId === '3.0')!;
    expect(interrupted).toMatchObject({ tool: 'await_agent', status: 'succeeded', attempts: 2 });
    const writer = after.find((d) => d.run.runId === writerId)!;
    expect(writer.trace.filter((e) => e.event === 'tool_start' && e.detail['tool'] === 'workspace_write')).toHaveLength(1);
  }, 60_000);
});
