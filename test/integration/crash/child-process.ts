/**
 * Spawning `child.ts` for the crash tests: `process.execPath --import <tsx> child.ts --await-go`,
 * stdout and stderr captured to strings, a hard timeout per child (a hang fails with the child's
 * stderr instead of stalling CI), and a small pool of pre-spawned children. A pooled child loads
 * its modules (≈0.5–1 s of tsx + imports) while the previous child works, then waits for its
 * instruction on stdin; nothing touches the data directory before that instruction arrives.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** `--import tsx` resolved once, so children may run with any cwd (a tmp dir has no node_modules). */
const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const CHILD_PATH = fileURLToPath(new URL('./child.ts', import.meta.url));
const DEFAULT_TIMEOUT_MS = 20_000;

/** What a child was told to do. */
export interface ChildRequest {
  argv: string[];
  /** The child reads only these variables (HARNESS_CONFIG, LEDGER_FILE, PEEK_LEDGER_FILE, BOT_CRASH_AT). */
  env: Record<string, string>;
  cwd: string;
  /** Counted from the instruction; default 20 s. */
  timeoutMs?: number;
  /** Keep stdin open after the instruction, for {@link RunningChild.send} (`recover-soak`). */
  interactive?: boolean;
}

/** How a child ended. */
export interface ChildResult {
  pid: number;
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Every stdout line that parsed as JSON. */
  lines: Record<string, unknown>[];
  /** The last line carrying `ok` (the action's result), if the child got that far. */
  final: { ok: boolean; runs?: RunSummary[]; error?: { code: string; message: string } } | undefined;
}

/** One run as a child reports it. */
export interface RunSummary {
  runId: string;
  status: string;
  result: string | null;
  attention: { stepId: string; reason: string } | null;
  gates: { gateId: string; stepId: string; status: string }[];
}

/** A child that has its instruction. */
export interface RunningChild {
  pid: number;
  result: Promise<ChildResult>;
  /** Resolves with the first JSON line matching `predicate`; rejects if the child ends first. */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** SIGKILLs the child (if still alive) and resolves with its result. */
  kill(): Promise<ChildResult>;
  /** Writes one more stdin line and closes stdin (interactive children only). */
  sendLast(line: string): void;
}

/** One-line description of a result for assertion messages. */
export function describeChild(result: ChildResult): string {
  return `child ${result.argv.join(' ')} (pid ${result.pid}) ended with code ${String(result.code)} signal ${String(result.signal)}\nstdout: ${result.stdout.slice(-2000)}\nstderr: ${result.stderr.slice(-4000)}`;
}

function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SystemRoot']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  onLine: Set<(line: Record<string, unknown>) => void>;
}

function spawnIdle(): Spawned {
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, CHILD_PATH, '--await-go'], {
    cwd: tmpdir(),
    env: childEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let partial = '';
  const lines: Record<string, unknown>[] = [];
  const onLine = new Set<(line: Record<string, unknown>) => void>();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue;
      }
      if (parsed === null || typeof parsed !== 'object') continue;
      const line = parsed as Record<string, unknown>;
      lines.push(line);
      for (const listener of onLine) listener(line);
    }
  });
  // An unused pooled child closes its stdin at teardown; a write after a crash must not throw.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, lines, exited, onLine };
}

/** Keeps `size` children loaded and waiting, hands them out one instruction each. */
export class ChildPool {
  private readonly idle: Spawned[] = [];
  private closed = false;

  constructor(private readonly size = 2) {
    this.refill();
  }

  private refill(): void {
    while (!this.closed && this.idle.length < this.size) this.idle.push(spawnIdle());
  }

  /** Gives the next loaded child its instruction. */
  start(request: ChildRequest): RunningChild {
    if (this.closed) throw new Error('the child pool is closed');
    const spawned = this.idle.shift() ?? spawnIdle();
    this.refill();
    const { child } = spawned;
    const pid = child.pid ?? -1;
    const go = `${JSON.stringify({ argv: request.argv, env: request.env, cwd: request.cwd })}\n`;
    if (request.interactive) child.stdin.write(go);
    else child.stdin.end(go);
    const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const result = spawned.exited.then(({ code, signal }): ChildResult => {
      clearTimeout(timer);
      const final = [...spawned.lines].reverse().find((line) => typeof line['ok'] === 'boolean') as ChildResult['final'];
      const outcome: ChildResult = {
        pid,
        argv: request.argv,
        code,
        signal,
        stdout: spawned.stdout(),
        stderr: spawned.stderr(),
        lines: spawned.lines,
        final,
      };
      if (timedOut) throw new Error(`timed out after ${timeoutMs} ms: ${describeChild(outcome)}`);
      return outcome;
    });
    return {
      pid,
      result,
      waitForLine: (predicate) => {
        const found = spawned.lines.find(predicate);
        if (found) return Promise.resolve(found);
        return new Promise((resolve, reject) => {
          const listener = (line: Record<string, unknown>): void => {
            if (!predicate(line)) return;
            spawned.onLine.delete(listener);
            resolve(line);
          };
          spawned.onLine.add(listener);
          result.then(
            (ended) => {
              spawned.onLine.delete(listener);
              reject(new Error(`the child ended before the awaited line: ${describeChild(ended)}`));
            },
            (error: unknown) => {
              spawned.onLine.delete(listener);
              reject(error instanceof Error ? error : new Error(String(error)));
            },
          );
        });
      },
      sendLast: (line) => {
        child.stdin.end(`${line}\n`);
      },
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        return result;
      },
    };
  }

  /** Runs one instruction to completion. */
  run(request: ChildRequest): Promise<ChildResult> {
    return this.start(request).result;
  }

  /** Lets the idle children exit (their stdin closes without an instruction) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    for (const spawned of idle) spawned.child.stdin.end();
    await Promise.all(
      idle.map(async (spawned) => {
        const timer = setTimeout(() => spawned.child.kill('SIGKILL'), 10_000);
        await spawned.exited;
        clearTimeout(timer);
      }),
    );
  }
}
