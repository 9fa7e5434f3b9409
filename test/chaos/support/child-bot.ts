/**
 * The bot as a child process for the chaos suite: `node --import tsx src/main.ts` (the production
 * entry point) in Socket Mode against the local workspace, configured exactly as the e2e rig's
 * `spawnChildBot` does (`botEnv`), plus the test-only `BOT_CRASH_AT` crash point. The e2e helper
 * has no way to pass that variable, and the chaos loop also needs to know *how* the child ended
 * (SIGKILL from its own crash point versus ours), so this is a thin variant of it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalSlack } from '../../../src/local-workspace/server.ts';
import { REPO_ROOT, botEnv, sleep, type TmpWorld } from '../../integration/slack/support/rig.ts';

const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MAIN_PATH = join(REPO_ROOT, 'src', 'main.ts');

/** How a child ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running bot child. */
export interface ChaosBot {
  child: ChildProcess;
  /** Resolves when the process is gone. */
  exited: Promise<ChildExit>;
  alive(): boolean;
  stderr(): string;
  /** SIGKILL (a power cut); resolves once the process is gone. */
  kill(): Promise<ChildExit>;
}

/** Options for {@link spawnBot}. */
export interface SpawnOptions {
  /** `BOT_CRASH_AT`: `<point>` or `<point>@N`. */
  crashAt?: string;
  /** Extra environment (for example `HARNESS_MCP_*` of a scenario). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Spawns the bot and resolves once it logged its startup banner and opened a new Socket Mode
 * connection (so a restarted bot has finished recovery and can receive clicks).
 */
export async function spawnBot(world: TmpWorld, server: LocalSlack, options: SpawnOptions = {}): Promise<ChaosBot> {
  const before = server.calls('apps.connections.open').length;
  const child = spawn(process.execPath, ['--import', TSX_IMPORT, MAIN_PATH], {
    cwd: world.dir,
    env: {
      PATH: process.env['PATH'] ?? '',
      ...botEnv(world, server, 'socket'),
      LOG_LEVEL: 'info',
      ...(options.crashAt !== undefined ? { BOT_CRASH_AT: options.crashAt } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout?.resume();
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (!(stderr.includes('slack-harness started') && server.calls('apps.connections.open').length > before)) {
    if (!alive()) throw new Error(`bot child exited early (${String(child.exitCode)} ${String(child.signalCode)}):\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`bot child not ready after ${String(timeoutMs)} ms:\n${stderr}`);
    }
    await sleep(20);
  }
  return {
    child,
    exited,
    alive,
    stderr: () => stderr,
    kill: async () => {
      if (alive()) child.kill('SIGKILL');
      return exited;
    },
  };
}
