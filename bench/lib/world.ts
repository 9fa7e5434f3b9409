/**
 * A throwaway world for one benchmark: the repository's own `config.yaml` with only its paths
 * changed (data directory and a copy of `workspace/` in a tmp dir under `os.tmpdir()`, the repo's
 * roles and scenarios by absolute path, logs silenced, the scripted model forced), loaded through
 * the real `loadConfig`, so the harness under test is the one the bot builds.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load-config.ts';
import type { HarnessConfig } from '../../src/config/schema.ts';
import { type Runtime, type RuntimeOptions, createRuntime } from '../../src/app/create-runtime.ts';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Who asks for runs in benchmarks, and who approves them (the repo config's approvers). */
export const REQUESTER = { userId: 'U_REQUESTER', source: 'bench' } as const;
export const APPROVER = { userId: 'U_APPROVER1', source: 'cli' } as const;

/** The reference task: the `report` scenario (search → read → write, the write needs approval). */
export const REPORT_TASK = 'write a short report on durable execution';

/** A tmp world. Paths are absolute. */
export interface World {
  dir: string;
  configPath: string;
  dataDir: string;
  config: HarnessConfig;
  /** Builds the runtime the bot would build from this world's config. */
  runtime(options?: Partial<RuntimeOptions>): Promise<Runtime>;
  cleanup(): Promise<void>;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Creates a world under `os.tmpdir()`; call `cleanup()` when done. */
export async function makeWorld(prefix = 'harness-bench-'): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await cp(join(REPO_ROOT, 'workspace'), join(dir, 'workspace'), {
      recursive: true,
      filter: (source) => !source.includes(`${join('workspace', 'reports')}`),
    });
    const repoConfig = asRecord(parse(await readFile(join(REPO_ROOT, 'config.yaml'), 'utf8')));
    const model = asRecord(repoConfig['model']);
    const roles = asRecord(repoConfig['roles']);
    const file = {
      ...repoConfig,
      dataDir: 'data',
      workspace: { root: 'workspace' },
      model: { ...model, provider: 'scripted', scenarios: join(REPO_ROOT, String(model['scenarios'] ?? 'scenarios/default.yaml')) },
      roles: { ...roles, dir: join(REPO_ROOT, String(roles['dir'] ?? 'roles')) },
      logLevel: 'silent',
    };
    delete (file.model as Record<string, unknown>)['baseUrl'];
    const configPath = join(dir, 'config.yaml');
    await writeFile(configPath, `# Written by bench/lib/world.ts from the repository's config.yaml\n${stringify(file)}`);
    // An empty environment: a developer's HARNESS_* or OPENAI_* variables must not change the world.
    const config = loadConfig({ cwd: dir, env: {}, argvConfigPath: configPath });
    return {
      dir,
      configPath,
      dataDir: config.dataDir,
      config,
      runtime: (options = {}) => createRuntime(config, { lock: true, ...options }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
