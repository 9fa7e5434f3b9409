/**
 * Reading a run tree (a root run and its sub-agents) from the store. Pure helpers plus one
 * bounded walk; nothing here writes. The tree is followed through `run.children` (what the parent
 * recorded with `subagent_drafted`), so its cost grows with the tree, never with the store.
 */
import type { RunStore } from '../../store/port.ts';
import { type Gate, type RunDoc, type RunState, type RunStatus, TERMINAL_STATUSES } from '../../store/run-schema.ts';

/** The most runs one walk reads; a deeper or wider tree is cut off (the limits keep trees far smaller). */
export const MAX_TREE_NODES = 500;

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Model tokens (input + output) the run has used. */
export function runTokens(run: RunState): number {
  return run.usage.inputTokens + run.usage.outputTokens;
}

/** The run's pending gate, if it waits for one. */
export function pendingGate(run: RunState): Gate | undefined {
  return run.gates.find((gate) => gate.status === 'pending');
}

/** One line, at most `max` characters (an ellipsis marks a cut). */
export function preview(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, Math.max(0, max - 1))}…` : oneLine;
}

/**
 * The run `rootId` and everything below it, breadth first (the root first). Children missing from
 * the store are skipped. Reads at most {@link MAX_TREE_NODES} documents.
 */
export async function loadSubtree(store: Pick<RunStore, 'get'>, rootId: string): Promise<RunDoc[]> {
  const root = await store.get(rootId);
  if (!root) return [];
  const out: RunDoc[] = [root];
  const seen = new Set<string>([rootId]);
  for (let i = 0; i < out.length && out.length < MAX_TREE_NODES; i += 1) {
    for (const childId of out[i]?.run.children ?? []) {
      if (seen.has(childId) || out.length >= MAX_TREE_NODES) continue;
      seen.add(childId);
      const child = await store.get(childId);
      if (child) out.push(child);
    }
  }
  return out;
}

/** The direct children of `run` that exist in the store, in drafting order. */
export async function loadChildren(store: Pick<RunStore, 'get'>, run: RunState): Promise<RunDoc[]> {
  const out: RunDoc[] = [];
  for (const childId of run.children) {
    const child = await store.get(childId);
    if (child) out.push(child);
  }
  return out;
}

/** The result or error text of a finished run, for previews and context. */
export function outcomeText(run: RunState): string {
  if (run.status === 'completed') return run.result ?? '';
  if (run.error) return `${run.error.code}: ${run.error.message}`;
  return run.status;
}

/**
 * The `get_task_context` answer: the root request and the run's own task (each up to a quarter of
 * `budget`), then the finished sub-agents' results sharing the rest evenly, so the text never
 * exceeds `budget` characters. `selfKey` names the run's own id field (`agent_id` for a run asking
 * about itself, `run_id` for an outside client naming a run).
 */
export function buildTaskContext(
  root: RunState,
  me: RunState,
  finished: readonly RunState[],
  budget: number,
  selfKey: 'agent_id' | 'run_id',
): Record<string, unknown> {
  let truncated = false;
  const clip = (text: string, max: number): string => {
    if (text.length <= max) return text;
    truncated = true;
    return `${text.slice(0, Math.max(0, max - 1))}…`;
  };
  const quarter = Math.floor(budget / 4);
  const rootTask = root.runId === me.runId ? null : clip(root.task, quarter);
  const ownTask = clip(me.task, quarter);
  const used = (rootTask?.length ?? 0) + ownTask.length;
  const perResult = finished.length === 0 ? 0 : Math.floor((budget - used) / finished.length);
  return {
    [selfKey]: me.runId,
    role: me.role,
    lineage: me.lineage,
    root_task: rootTask,
    own_task: ownTask,
    results: finished.map((run) => ({ agent_id: run.runId, role: run.role, status: run.status, result: clip(outcomeText(run), perResult) })),
    truncated,
    budget_chars: budget,
  };
}

/**
 * One sub-agent as `list_agents` shows it, `depth` counted from `base` (the run asking).
 * `pending` renders the sub-agent's pending gate when it waits for approval.
 */
export function agentSummary(run: RunState, base: RunState, pending: (gate: Gate) => Record<string, unknown>): Record<string, unknown> {
  const gate = pendingGate(run);
  return {
    agent_id: run.runId,
    parent_id: run.parentRunId,
    role: run.role,
    status: run.status,
    depth: run.depth - base.depth,
    task: preview(run.task, 160),
    tokens: runTokens(run),
    ...(gate && run.status === 'waiting_approval' ? { pending_approval: pending(gate) } : {}),
    ...(isTerminal(run.status) ? { result_preview: preview(outcomeText(run), 200) } : {}),
  };
}

/** One run of a tree as `list_tasks` shows it. */
export function taskSummary(run: RunState): Record<string, unknown> {
  return { task_id: run.runId, parent_id: run.parentRunId, role: run.role, status: run.status, depth: run.depth, task: preview(run.task, 200) };
}

/**
 * The `get_task_context` answer for `me`: its root's request, its own task and its finished
 * sub-agents' results within `budget` characters (see {@link buildTaskContext}).
 */
export async function loadTaskContext(store: Pick<RunStore, 'get'>, me: RunState, budget: number, selfKey: 'agent_id' | 'run_id'): Promise<Record<string, unknown>> {
  const root = me.rootRunId === me.runId ? me : ((await store.get(me.rootRunId))?.run ?? me);
  const finished = (await loadChildren(store, me)).filter((child) => isTerminal(child.run.status)).map((child) => child.run);
  return buildTaskContext(root, me, finished, budget, selfKey);
}
