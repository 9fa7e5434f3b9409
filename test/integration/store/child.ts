/** Spawns the store child scripts with tsx and watches their stdout. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A running child script. */
export interface Child {
  process: ChildProcess;
  /** Every complete stdout line so far. */
  lines: string[];
  /** Resolves with the first line starting with `prefix` (rejects if the child exits first). */
  waitFor(prefix: string): Promise<string>;
  /** SIGKILLs the child and resolves once it has exited. */
  kill(): Promise<void>;
  /** Collected stderr (for failure messages). */
  stderr(): string;
}

/** Starts `test/integration/store/fixtures/<script>` with `node --import tsx`. */
export function spawnChild(script: string, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters: { prefix: string; resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => line.startsWith(w.prefix))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  void exited.then(() => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`child exited before "${waiter.prefix}": ${err}`));
  });
  return {
    process: child,
    lines,
    waitFor: (prefix) => {
      const found = lines.find((line) => line.startsWith(prefix));
      if (found !== undefined) return Promise.resolve(found);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`child exited: ${err}`));
      return new Promise((resolve, reject) => waiters.push({ prefix, resolve, reject }));
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    stderr: () => err,
  };
}
