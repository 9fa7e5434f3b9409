/**
 * Driving a scenario through Slack the way people do, and judging the world after a crash.
 *
 * - {@link startScenario} posts the mention; {@link finishAll} clicks Approve on every pending
 *   gate's card (as `U_APPROVER1`, once per gate per bot process, as a person would click again
 *   after a restart) until every run is terminal (or `needs_attention`) and every root thread has
 *   its result message. A mention whose event the bot never acknowledged (it died first) is
 *   redelivered as Slack's retry, which is what Slack does with an unacknowledged event.
 * - {@link checkWorld} lists every broken invariant (empty when the world is sound): store files
 *   valid and replaying (P2, P20), the audit chain whole with one decision per decided gate (no
 *   decision lost or doubled), no gate lost (every gate has exactly one card), no Slack post
 *   duplicated, and each root run's outcome equal to the uncrashed reference's.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { LocalSlack } from '../../../src/local-workspace/server.ts';
import type { StoredMessage } from '../../../src/local-workspace/workspace-state.ts';
import { ActionIds } from '../../../src/slack/blocks/action-ids.ts';
import { loadStoreReport } from '../../../src/store/lowdb-run-store.ts';
import { RunDoc, TERMINAL_STATUSES, type TraceEvent } from '../../../src/store/run-schema.ts';
import { readAudit, readStore } from '../../integration/crash/fixture.ts';
import { APPROVER1, CHANNEL, REQUESTER, buttonsOf, postKey, sleep, type TmpWorld } from '../../integration/slack/support/rig.ts';
import type { ChaosBot } from './child-bot.ts';

/** A mention the suite posted: its thread and the run id the bot derives from its event id. */
export interface Mention {
  thread: string;
  eventId: string;
  runId: string;
}

/** What a finished root run (with its whole tree) looks like, compared across crashes. */
export interface Outcome {
  status: string;
  result: string | null;
  error: string | null;
  attention: boolean;
  /** Runs in the tree, by role. */
  roles: string[];
  /** Every gate of the tree: tool, status, who decided. */
  gates: string[];
  /** Files the tree produced (path and content hash). */
  files: string[];
  /** Bot messages in the thread by key kind (`gate:<id>` → `gate`, `subagent:<runId>` → `subagent`). */
  posts: string[];
}

/** Reads a run file; undefined when it does not exist (yet). */
async function tryRead(world: TmpWorld, runId: string): Promise<RunDoc | undefined> {
  try {
    return RunDoc.parse(JSON.parse(await readFile(join(world.dataDir, 'runs', `${runId}.json`), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every run document in the data directory (validated). */
export async function allRuns(world: TmpWorld): Promise<RunDoc[]> {
  let names: string[];
  try {
    names = await readdir(join(world.dataDir, 'runs'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const docs: RunDoc[] = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const doc = await tryRead(world, name.slice(0, -'.json'.length));
    if (doc !== undefined) docs.push(doc);
  }
  return docs;
}

/**
 * Posts the scenario's mention. The delivery may fail when the bot dies under it; the mention is
 * still returned (its message exists in the channel) so {@link finishAll} can have it retried.
 */
export async function startScenario(server: LocalSlack, text: string): Promise<Mention> {
  const before = new Set(server.deliveries().map((d) => d.id));
  const posted = server.postUserMessage(REQUESTER, CHANNEL, text);
  posted.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const mention = server
      .deliveries()
      .find((d) => !before.has(d.id) && (d.payload['event'] as { type?: string } | undefined)?.type === 'app_mention');
    if (mention !== undefined) {
      const event = mention.payload['event'] as { ts: string };
      const eventId = String(mention.payload['event_id']);
      return { thread: event.ts, eventId, runId: `ev_${eventId}` };
    }
    if (Date.now() > deadline) throw new Error('the mention was never delivered');
    await sleep(5);
  }
}

function isSettled(doc: RunDoc): boolean {
  return TERMINAL_STATUSES.includes(doc.run.status) || doc.run.status === 'needs_attention';
}

/** The bot messages of a thread (root excluded). */
export function threadPosts(server: LocalSlack, thread: string): StoredMessage[] {
  return server.state.replies(CHANNEL, thread).filter((m) => m.botId !== undefined);
}

function cardOf(server: LocalSlack, thread: string, gateId: string): StoredMessage | undefined {
  return threadPosts(server, thread).find((m) => postKey(m) === `gate:${gateId}`);
}

/** Options for {@link finishAll}. */
export interface FinishOptions {
  timeoutMs?: number;
  /** Gate ids already clicked by this bot process (so a slow card update is not clicked twice). */
  clicked?: Set<string>;
}

/**
 * Clicks every scenario through to its end against `bot`. Resolves `done` when every run is
 * settled and every root thread has its final message, `died` when the bot died meanwhile.
 */
export async function finishAll(server: LocalSlack, world: TmpWorld, bot: ChaosBot, mentions: readonly Mention[], options: FinishOptions = {}): Promise<'done' | 'died'> {
  const clicked = options.clicked ?? new Set<string>();
  const startedAt = Date.now();
  const deadline = startedAt + (options.timeoutMs ?? 60_000);
  const retried = new Set<string>();
  for (;;) {
    if (!bot.alive()) return 'died';
    const docs = await allRuns(world);
    const byId = new Map(docs.map((d) => [d.run.runId, d]));
    let pending = false;
    for (const mention of mentions) {
      if (byId.has(mention.runId)) continue;
      pending = true;
      // Never acknowledged (the bot died first): Slack retries the event; so do we, once per process.
      if (!retried.has(mention.runId) && Date.now() - startedAt > 1500) {
        retried.add(mention.runId);
        const last = server
          .deliveries()
          .filter((d) => String(d.payload['event_id']) === mention.eventId)
          .at(-1);
        if (last !== undefined) void server.redeliver(last.id).catch(() => undefined);
      }
    }
    for (const doc of docs) {
      if (!isSettled(doc)) pending = true;
      if (doc.run.status !== 'waiting_approval') continue;
      for (const gate of doc.run.gates.filter((g) => g.status === 'pending')) {
        if (clicked.has(gate.gateId)) continue;
        // A sub-agent's card is posted in its root run's thread.
        const root = byId.get(doc.run.rootRunId)?.run.origin;
        const card = cardOf(server, root?.kind === 'slack' ? root.threadTs : '', gate.gateId);
        if (card === undefined || !buttonsOf(card).includes(ActionIds.approve)) continue;
        clicked.add(gate.gateId);
        void server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve).catch(() => undefined);
      }
    }
    for (const doc of docs) {
      if (doc.run.parentRunId !== null || !isSettled(doc) || doc.run.origin.kind !== 'slack') continue;
      const keys = threadPosts(server, doc.run.origin.threadTs).map(postKey);
      if (!keys.includes('result') && !keys.includes('failure') && doc.run.status !== 'needs_attention') pending = true;
      // The decided card must show the decision (no buttons) before the run counts as finished.
      for (const gate of doc.run.gates) {
        const card = cardOf(server, doc.run.origin.threadTs, gate.gateId);
        if (gate.status !== 'pending' && (card === undefined || buttonsOf(card).length > 0)) pending = true;
      }
    }
    if (!pending) return 'done';
    if (Date.now() > deadline) {
      const states = docs.map((d) => `${d.run.runId}:${d.run.status}`).join(', ');
      throw new Error(`scenario not finished in time; runs: ${states}; mentions: ${mentions.map((m) => m.runId).join(', ')}\n${bot.stderr().slice(-3000)}`);
    }
    await sleep(25);
  }
}

function treeOf(docs: readonly RunDoc[], rootId: string): RunDoc[] {
  return docs.filter((d) => d.run.rootRunId === rootId);
}

/** The outcome of the root run `rootId` and its tree. */
export function outcomeOf(server: LocalSlack, docs: readonly RunDoc[], rootId: string): Outcome {
  const tree = treeOf(docs, rootId);
  const root = tree.find((d) => d.run.runId === rootId);
  if (root === undefined) throw new Error(`no run ${rootId}`);
  const thread = root.run.origin.kind === 'slack' ? root.run.origin.threadTs : '';
  return {
    status: root.run.status,
    result: root.run.result,
    error: root.run.error?.code ?? null,
    attention: root.run.attention !== null,
    roles: tree.map((d) => d.run.role).sort(),
    gates: tree.flatMap((d) => d.run.gates.map((g) => `${g.tool}:${g.status}:${String(g.decidedBy)}`)).sort(),
    files: tree.flatMap((d) => d.run.files.map((f) => `${f.path}:${f.sha256}`)).sort(),
    posts: threadPosts(server, thread)
      .map((m) => (postKey(m) ?? '(no key)').replace(/:.*/, ''))
      .sort(),
  };
}

/** The concatenated trace of a tree (for crash-point counts). */
export function treeTrace(docs: readonly RunDoc[], rootId: string): TraceEvent[] {
  return treeOf(docs, rootId).flatMap((d) => d.trace);
}

/** Contents of the workspace's `reports/` (file → text). */
export async function reportFiles(world: TmpWorld): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(join(world.workspaceRoot, 'reports'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const name of names.sort()) out.set(name, await readFile(join(world.workspaceRoot, 'reports', name), 'utf8'));
  return out;
}

/**
 * Every broken invariant of the world, as readable lines (empty when sound). `reference` is the
 * outcome of an uncrashed run; each mention's root run must match it, or end in
 * `needs_attention` with a reason. The store (the trace's decision event) is the record of a
 * decision; the audit log is appended right after that commit, so a kill between the two leaves a
 * decided gate without its audit line until recovery writes it (Harness.recover). Such gates are
 * pushed to `auditGaps`, which both chaos tests require to be empty after the restart.
 */
export async function checkWorld(
  world: TmpWorld,
  server: LocalSlack,
  mentions: readonly Mention[],
  reference: Outcome,
  auditGaps: string[] = [],
): Promise<string[]> {
  const problems: string[] = [];
  // P2 + P20: every run file and .bak validates and replays to its state; keys are `${runId}:${stepId}`;
  // no completed step ran again.
  const store = await readStore(join(world.dataDir, 'runs'));
  for (const p of store.problems) problems.push(`store: ${p.file}: ${p.problem}`);
  const report = await loadStoreReport(world.dataDir);
  for (const c of report.corrupt) problems.push(`store: corrupt ${c.file}: ${c.error.message}`);
  for (const q of report.quarantined) problems.push(`store: quarantined ${q}`);
  const docs = [...store.docs.values()];

  // No decision lost or doubled: the audit chain verifies, and each decided gate has exactly one
  // decision line; no decision line names a gate the store does not show decided.
  const audit = await readAudit(world.dataDir);
  if (!audit.verify.ok) problems.push(`audit: chain broken at line ${String(audit.verify.brokenAt)}: ${String(audit.verify.reason)}`);
  const decisions = audit.records.filter((r) => r.action === 'approved' || r.action === 'rejected');
  for (const doc of docs) {
    for (const gate of doc.run.gates) {
      const lines = decisions.filter((r) => r.gateId === gate.gateId);
      const decided = gate.status === 'approved' || gate.status === 'rejected';
      if (lines.length > 1) problems.push(`decision doubled: gate ${gate.gateId} has ${String(lines.length)} audit decisions`);
      if (decided && lines.length === 0) auditGaps.push(gate.gateId);
      if (!decided && lines.length > 0) problems.push(`decision lost: gate ${gate.gateId} has an audit decision but is ${gate.status} in the store`);
      const granted = doc.trace.filter((e) => (e.event === 'approval_granted' || e.event === 'approval_rejected') && e.detail['gateId'] === gate.gateId);
      if (decided && granted.length !== 1) problems.push(`decision: gate ${gate.gateId} has ${String(granted.length)} decision events in the trace`);
    }
  }

  for (const mention of mentions) {
    const root = store.docs.get(mention.runId);
    if (root === undefined) {
      problems.push(`run lost: the mention ${mention.thread} has no run ${mention.runId}`);
      continue;
    }
    const tree = treeOf(docs, mention.runId);
    // No gate lost: every gate of the tree has exactly one card in the thread; no post is doubled.
    const posts = threadPosts(server, mention.thread);
    const perKey = new Map<string, number>();
    for (const m of posts) {
      const key = `${String(m.metadata?.event_payload['runId'])}/${postKey(m) ?? '(no key)'}`;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    for (const [key, n] of perKey) if (n > 1) problems.push(`duplicate post in ${mention.thread}: ${key} ×${String(n)}`);
    for (const doc of tree) {
      for (const gate of doc.run.gates) {
        if (perKey.get(`${doc.run.runId}/gate:${gate.gateId}`) !== 1) problems.push(`gate lost: ${gate.gateId} (${gate.status}) has no card`);
        if (gate.status === 'pending') problems.push(`gate ${gate.gateId} still pending after the scenario finished`);
      }
    }
    // Terminal state: the reference outcome, or needs_attention with a reason.
    const outcome = outcomeOf(server, docs, mention.runId);
    if (outcome.status === 'needs_attention') {
      if (root.run.attention === null || root.run.attention.reason.trim() === '') problems.push(`run ${mention.runId}: needs_attention without a reason`);
    } else if (!isDeepStrictEqual(outcome, reference)) {
      problems.push(`run ${mention.runId}: outcome differs from the uncrashed run:\n  got      ${JSON.stringify(outcome)}\n  expected ${JSON.stringify(reference)}`);
    }
  }
  if (server.unexpectedCalls.length > 0) problems.push(`unexpected Slack calls: ${JSON.stringify(server.unexpectedCalls).slice(0, 500)}`);
  return problems;
}
