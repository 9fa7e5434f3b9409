/**
 * Runs the real CLI (`node bin/harness.mjs …`, which registers tsx and imports src/cli/main.ts)
 * as a child process in a tmp directory holding a COPY of the repo's config.yaml, roles/,
 * scenarios/ and workspace/, with HARNESS_DATA_DIR inside that directory. The child's
 * environment is built from scratch (PATH only, plus what a test adds), so a developer's shell
 * variables never leak into a test.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(REPO, 'bin', 'harness.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  dir: string;
  dataDir: string;
  workspace: string;
  env: Record<string, string>;
  run(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** `run` with `--json`; parses stdout (throws when it is not exactly one JSON document). */
  json<T = Record<string, unknown>>(args: readonly string[], extraEnv?: Record<string, string>): Promise<CliResult & { body: T }>;
  cleanup(): Promise<void>;
}

/** Creates the sandbox. `env` is added to the child's environment. */
export async function createSandbox(env: Record<string, string> = {}): Promise<CliSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'harness-cli-'));
  for (const entry of ['config.yaml', 'roles', 'scenarios', 'workspace', 'examples']) {
    await cp(join(REPO, entry), join(dir, entry), { recursive: true });
  }
  // The default config starts the example MCP server, which imports the SDK from node_modules.
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const dataDir = join(dir, 'data');
  const baseEnv: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HARNESS_DATA_DIR: dataDir, ...env };
  const run = (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { cwd: dir, env: { ...baseEnv, ...extraEnv }, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  return {
    dir,
    dataDir,
    workspace: join(dir, 'workspace'),
    env: baseEnv,
    run,
    async json<T>(args: readonly string[], extraEnv?: Record<string, string>) {
      const result = await run([...args, '--json'], extraEnv);
      let body: T;
      try {
        body = JSON.parse(result.stdout) as T;
      } catch {
        throw new Error(`stdout of harness ${args.join(' ')} is not one JSON document (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
      }
      return { ...result, body };
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Every file under `dir` (relative path → size and mtime), for before/after comparisons. */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        out.set(`${relative(dir, path)}/`, 'dir');
        await walk(path);
      } else {
        const info = await stat(path);
        out.set(relative(dir, path), `${info.size}:${info.mtimeMs}`);
      }
    }
  };
  await walk(dir);
  return out;
}

/** Every regular file's text under `dir`, for secret scans. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.set(relative(dir, path), await readFile(path, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}
