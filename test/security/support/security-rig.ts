/**
 * The security suite's world: the e2e rig's tmp world (canary tokens, local workspace, real bot)
 * with the attacker-obedient scenarios of `test/fixtures/scenarios/security.yaml`, a directory
 * outside the workspace that must stay empty, and a symlink `reports/link` pointing at it. Plus
 * the P16 sweep: every text the bot produced — its log lines, the workspace's stored messages, the
 * Web API journal, every delivery and its ack, and every file under the tmp world (store, traces,
 * audit log, workspace) — grepped for the canary secrets.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalSlack } from '../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../src/local-workspace/workspace-state.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import {
  CANARY_VALUES,
  CHANNEL,
  REPO_ROOT,
  REQUESTER,
  cards,
  eventually,
  makeWorld,
  readRun,
  runIds,
  sleep,
  type TmpWorld,
} from '../../integration/slack/support/rig.ts';

export const SECURITY_SCENARIOS = join(REPO_ROOT, 'test', 'fixtures', 'scenarios', 'security.yaml');

/** A tmp world whose scripted model plays {@link SECURITY_SCENARIOS}. */
export interface SecurityWorld extends TmpWorld {
  /** A directory outside the workspace; `reports/link` points at it. */
  outside: string;
}

export async function makeSecurityWorld(): Promise<SecurityWorld> {
  const world = await makeWorld();
  const config = await readFile(world.configPath, 'utf8');
  const swapped = config.replace(/^ {2}scenarios: .*$/m, `  scenarios: ${JSON.stringify(SECURITY_SCENARIOS)}`);
  if (swapped === config) throw new Error('the rig config has no model.scenarios line to replace');
  await writeFile(world.configPath, swapped);
  const outside = join(world.dir, 'outside');
  await mkdir(outside);
  await mkdir(join(world.workspaceRoot, 'reports'), { recursive: true });
  await symlink(outside, join(world.workspaceRoot, 'reports', 'link'));
  return { ...world, outside };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Where a canary secret appears, as `place: canary-prefix…` lines (empty when nothing leaked).
 * `extra` adds texts the caller captured (child stderr, error messages, MCP responses).
 */
export async function canaryLeaks(world: TmpWorld, server: LocalSlack, logs: readonly string[], extra: ReadonlyMap<string, string> = new Map()): Promise<{ leaks: string[]; places: string[] }> {
  const texts = new Map<string, string>(extra);
  texts.set('logs', logs.join('\n'));
  texts.set('workspace state', JSON.stringify(server.state.snapshot()));
  texts.set('Web API journal', JSON.stringify(server.calls()));
  texts.set('deliveries', JSON.stringify(server.deliveries()));
  for (const file of await filesUnder(world.dir)) {
    if (file === world.configPath) continue;
    texts.set(file.slice(world.dir.length), await readFile(file, 'utf8'));
  }
  const leaks = [...texts].flatMap(([where, text]) => CANARY_VALUES.filter((c) => text.includes(c)).map((c) => `${where}: ${c.slice(0, 12)}…`));
  return { leaks, places: [...texts.keys()] };
}

/**
 * Mentions the bot and waits until the new run has a pending gate with its card recorded, or has
 * settled; throws with the run's trace when neither happens.
 */
export async function mentionAndWait(
  server: LocalSlack,
  world: TmpWorld,
  text: string,
): Promise<{ runId: string; thread: string; doc: RunDoc; card: StoredMessage | undefined }> {
  const before = new Set(await runIds(world.dataDir));
  const posted = await server.postUserMessage(REQUESTER, CHANNEL, text);
  const thread = posted.message.ts;
  const runId = await eventually(async () => (await runIds(world.dataDir)).find((id) => !before.has(id)), 'the run');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const doc = await readRun(world.dataDir, runId);
    const pending = doc.run.gates.find((g) => g.status === 'pending');
    if (pending?.card != null) return { runId, thread, doc, card: cards(server, CHANNEL, thread).find((m) => m.ts === pending.card?.ts) };
    if (['completed', 'failed', 'cancelled', 'needs_attention'].includes(doc.run.status)) return { runId, thread, doc, card: undefined };
    if (Date.now() > deadline) throw new Error(`run ${runId} neither gated nor settled: ${doc.run.status}\n${JSON.stringify(doc.trace.map((e) => [e.event, e.detail]))}`);
    await sleep(20);
  }
}
