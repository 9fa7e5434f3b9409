/**
 * The sub-agent lifecycle over a {@link Harness} (issue C): draft, await, kill. A sub-agent is an
 * ordinary run with `parentRunId` set, so there is exactly one agent id everywhere (the child's run
 * id: in the tree, in the trace, in Slack and in the MCP tools), and everything a run has — policy,
 * gates, budgets, persistence, crash recovery — a sub-agent has too.
 *
 * What the reference harness got wrong and this class guarantees instead:
 * - `kill` really stops the child and its descendants (the harness's cascading cancel aborts their
 *   drives, so in-flight tool and model calls see the signal), and waits for the drives it started.
 * - A child's end is recorded on the parent (`subagent_finished` + a `role_handoff` back, a
 *   `role_activity`, and `draft_reviewed` for a reviewer) exactly once, whether or not anyone
 *   awaits it: the record is made from the harness's commit stream (docs/architecture/agents.md).
 * - `await` never polls the store in a loop: it subscribes to commits and wakes on the child's.
 * - Drafts over the depth, children or tree-token limits are refused before anything is created.
 */
import type { Actor, Harness } from '../../orchestrator/harness.ts';
import type { RunEventInput } from '../../orchestrator/event-schemas.ts';
import { BudgetExceededError, ErrorCode, InvalidStateError, NotFoundError, UsageError, asBotError } from '../../shared/errors.ts';
import type { ErrorInfo, RunDoc, RunState, RunStatus, TraceEvent } from '../../store/run-schema.ts';
import { isTerminal, loadChildren, loadSubtree, outcomeText, pendingGate, preview, runTokens } from './tree.ts';
import { handoffPurpose, stageOf } from './stages.ts';
import { KeyedQueue } from '../../shared/keyed-queue.ts';
import { humanWaitKey, waitForRun } from './wait-for-run.ts';

/** Limits from config `agents:` (see `AgentsConfig`). */
export interface SubagentLimits {
  maxDepth: number;
  maxChildrenPerRun: number;
  maxTreeTokens: number;
}

/** Input of {@link SubagentManager.draft}. */
export interface DraftInput {
  parentRunId: string;
  role: string;
  task: string;
  /** Who asked for the draft, for the trace: `agent:<runId>` for a model, or a user id. */
  by: string;
}

/** What {@link SubagentManager.draft} returns, as soon as the child exists (it runs in the background). */
export interface DraftResult {
  childRunId: string;
  role: string;
  depth: number;
  lineage: string[];
}

/** Input of {@link SubagentManager.await}. */
export interface AwaitInput {
  /** The run that is waiting; it must be the child's parent. */
  parentRunId: string;
  childRunId: string;
  /** How long to wait (on the harness clock); 0 returns the current status at once. */
  timeoutMs: number;
  /** Aborts the wait (the waiting tool call was cancelled); the promise rejects with its reason. */
  signal?: AbortSignal;
}

/** The gate a child waits on, as the parent sees it. */
export interface PendingGateInfo {
  gateId: string;
  tool: string;
  category: string;
  risk: string;
  reason: string;
  lineage: string[];
  approvers: string[];
  expiresAt: number;
}

/** What {@link SubagentManager.await} returns. */
export interface AwaitResult {
  childRunId: string;
  role: string;
  status: RunStatus;
  /** True when the wait ended because `timeoutMs` passed (the status is then just the current one). */
  timedOut: boolean;
  result?: string;
  error?: ErrorInfo;
  pendingGate?: PendingGateInfo;
  /** Why the child needs an operator (status `needs_attention`). */
  attention?: string;
}

/** Input of {@link SubagentManager.kill}. */
export interface KillInput {
  childRunId: string;
  by: Actor;
  /**
   * The run asking (kill_agent): it must be the child's parent. Omitted for a human's kill (the
   * Slack button), whose authority the transport checked.
   */
  parentRunId?: string;
  reason?: string;
}

/** What {@link SubagentManager.kill} returns. */
export interface KillResult {
  childRunId: string;
  /** Every run this kill cancelled: the child first, then its descendants. */
  killed: string[];
}

/** Options of {@link SubagentManager}. */
export interface SubagentManagerOptions {
  harness: Harness;
  limits: SubagentLimits;
}

const TERMINAL_EVENTS = new Set<string>(['run_completed', 'run_failed', 'run_cancelled']);
const RESULT_PREVIEW_CHARS = 280;

/** Thrown inside a commit guard to abort a write that is no longer needed. */
class AlreadyRecorded extends Error {}

/**
 * Drafts, awaits and kills sub-agents. One instance per Harness; it subscribes to the harness's
 * commits on construction ({@link close} unsubscribes).
 */
export class SubagentManager {
  readonly limits: SubagentLimits;
  private readonly harness: Harness;
  private readonly unsubscribe: () => void;
  /** Background work (drives, parent notifications), for {@link drain} and {@link kill}. */
  private readonly pending = new Set<Promise<unknown>>();
  private readonly drives = new Map<string, Promise<unknown>>();
  /** Per-parent chain so concurrent drafts see each other when counting children. */
  private readonly draftLocks = new KeyedQueue();
  /** Gates / attention already reported to a waiting parent: `parent child` → keys. */
  private readonly reported = new Map<string, Set<string>>();

  constructor(options: SubagentManagerOptions) {
    this.harness = options.harness;
    this.limits = { ...options.limits };
    this.unsubscribe = this.harness.onCommit(({ doc, events }) => this.onCommit(doc, events));
  }

  /**
   * Creates a child run under `parentRunId` and starts driving it in the background; resolves as
   * soon as the child exists and the parent recorded `subagent_drafted` and a `role_handoff`.
   * The child is requested by the parent's requester (source `agent`), so approvals and per-user
   * quotas apply to the human behind the tree.
   * @throws NotFoundError (unknown parent), InvalidStateError (parent finished), UsageError
   * (unknown role, empty or oversized task), BudgetExceededError (a limit; nothing is created).
   */
  draft(input: DraftInput): Promise<DraftResult> {
    return this.draftLocks.run(input.parentRunId, () => this.draftLocked(input));
  }

  private async draftLocked(input: DraftInput): Promise<DraftResult> {
    const { deps } = this.harness;
    const parent = (await this.harness.getRun(input.parentRunId)).run;
    if (isTerminal(parent.status)) {
      throw new InvalidStateError(`run ${parent.runId} is ${parent.status}; a finished run cannot draft sub-agents`, { runId: parent.runId });
    }
    const role = deps.roles.get(input.role);
    if (!role) {
      const known = deps.roles.list().map((r) => r.name).join(', ');
      throw new UsageError(`unknown role "${preview(input.role, 40)}"; known roles: ${known}`);
    }
    await this.checkLimits(parent);

    const child = await this.harness.createRun({
      task: input.task,
      role: role.name,
      requestedBy: { userId: parent.requestedBy.userId, source: 'agent' },
      origin: { kind: 'agent', parentRunId: parent.runId },
      parentRunId: parent.runId,
    });
    const childRunId = child.run.runId;
    let recorded: RunDoc;
    try {
      recorded = await this.harness.committer.commit(parent.runId, [
        { event: 'subagent_drafted', detail: { childRunId, role: role.name, task: child.run.task, by: input.by, depth: child.run.depth } },
        {
          event: 'role_handoff',
          detail: {
            from_role: parent.role,
            to_role: role.name,
            purpose: handoffPurpose(role.category),
            payload: { childRunId, task: preview(child.run.task, 500), from_stage: stageOf(deps.roles.get(parent.role)?.category), to_stage: stageOf(role.category) },
          },
        },
        {
          event: 'role_activity',
          detail: { role: parent.role, action: 'delegated', payload: { childRunId, to_role: role.name, stage: stageOf(deps.roles.get(parent.role)?.category) } },
        },
      ]);
    } catch (error) {
      // Without the parent's record nobody could await or list the child: do not leave it queued.
      await this.harness.cancel(childRunId, { userId: input.by, source: 'mcp' }, 'the parent could not record the draft').catch(() => undefined);
      throw error;
    }
    if (isTerminal(recorded.run.status)) {
      // The parent was cancelled while this draft was in flight, after its cascade had walked its
      // children: the new child is in the tree now, so stop it instead of letting it run orphaned.
      await this.harness.cancel(childRunId, { userId: input.by, source: 'mcp' }, `its parent ${parent.runId} ended while it was drafted`);
      throw new InvalidStateError(`run ${parent.runId} ended while drafting; the sub-agent ${childRunId} was cancelled`, { runId: parent.runId });
    }
    this.startDrive(childRunId);
    return { childRunId, role: role.name, depth: child.run.depth, lineage: [...child.run.lineage] };
  }

  private async checkLimits(parent: RunState): Promise<void> {
    const { limits } = this;
    const depth = parent.depth + 1;
    if (depth > limits.maxDepth) {
      throw new BudgetExceededError(
        `cannot draft: a sub-agent of ${parent.lineage.join(' → ')} would be at depth ${depth}; agents.maxDepth is ${limits.maxDepth}`,
        { runId: parent.runId, details: { limit: 'maxDepth', value: limits.maxDepth } },
      );
    }
    const children = await loadChildren(this.harness.deps.store, parent);
    const active = children.filter((c) => !isTerminal(c.run.status)).length;
    if (active >= limits.maxChildrenPerRun) {
      throw new BudgetExceededError(
        `cannot draft: run ${parent.runId} already has ${active} unfinished sub-agents; agents.maxChildrenPerRun is ${limits.maxChildrenPerRun}. Await or kill one first`,
        { runId: parent.runId, details: { limit: 'maxChildrenPerRun', value: limits.maxChildrenPerRun } },
      );
    }
    const tree = await loadSubtree(this.harness.deps.store, parent.rootRunId);
    const used = tree.reduce((sum, doc) => sum + runTokens(doc.run), 0);
    if (used >= limits.maxTreeTokens) {
      throw new BudgetExceededError(
        `cannot draft: this task's agents have used ${used} model tokens; agents.maxTreeTokens is ${limits.maxTreeTokens}`,
        { runId: parent.runId, details: { limit: 'maxTreeTokens', value: limits.maxTreeTokens } },
      );
    }
  }

  /**
   * Waits until the child ends, or newly waits for a human (a gate or an attention it has not yet
   * reported to this parent), or `timeoutMs` passes. A gate is reported once: awaiting again while
   * the same gate is pending keeps waiting, so a coordinator cannot spin on it. On a timeout the
   * current status is returned with `timedOut: true` (not an error). When the child has ended, its
   * `subagent_finished` is on the parent before this resolves.
   * @throws NotFoundError when the child is not a sub-agent of `parentRunId` (tree check); the
   * signal's reason when aborted.
   */
  async await(input: AwaitInput): Promise<AwaitResult> {
    const initial = await this.childOf(input.parentRunId, input.childRunId);
    const key = `${input.parentRunId} ${input.childRunId}`;
    const reported = this.reported.get(key) ?? (await this.reportedInTrace(input.parentRunId, input.childRunId));
    this.reported.set(key, reported);
    const ready = (run: RunState): boolean => {
      if (isTerminal(run.status)) return true;
      const humanKey = humanWaitKey(run);
      return humanKey !== null && !reported.has(humanKey);
    };

    let doc: RunDoc | null = initial;
    if (!ready(initial.run)) doc = input.timeoutMs <= 0 ? null : await waitForRun(this.harness, this.harness.deps.clock, input.childRunId, ready, input.timeoutMs, input.signal);
    doc ??= await this.harness.getRun(input.childRunId);
    const run = doc.run;
    const timedOut = !ready(run);
    const humanKey = humanWaitKey(run);
    if (humanKey !== null) reported.add(humanKey);
    if (isTerminal(run.status)) {
      this.reported.delete(key);
      await this.recordFinished(input.parentRunId, run);
    }
    return describeChild(run, timedOut);
  }

  /**
   * The gates an earlier await_agent of this parent already reported for this child, read from the
   * parent's persisted steps: after a restart the coordinator is not told about the same pending
   * gate twice (it would move on before the human decided).
   */
  private async reportedInTrace(parentRunId: string, childRunId: string): Promise<Set<string>> {
    const out = new Set<string>();
    const parent = await this.harness.deps.store.get(parentRunId);
    for (const step of parent?.run.steps ?? []) {
      if (step.tool !== 'await_agent' || step.status !== 'succeeded') continue;
      const data = step.output?.data as { agent_id?: unknown; pending_approval?: { gate_id?: unknown } } | undefined;
      if (data?.agent_id === childRunId && typeof data.pending_approval?.gate_id === 'string') out.add(`gate:${data.pending_approval.gate_id}`);
    }
    return out;
  }

  /** Resolves with the child's doc once `ready`, or null on timeout; rejects on abort. */
  /**
   * Stops a sub-agent and everything below it: `run_cancelled` on each (the harness cascades and
   * aborts their drives), `subagent_killed` on each parent, and — once the drives this manager
   * started have wound down — resolves. After it resolves no killed run makes another tool or
   * model call.
   * @throws NotFoundError when `parentRunId` is given and is not the child's parent (tree check),
   * UsageError for a run that is not a sub-agent, InvalidStateError when it already ended.
   */
  async kill(input: KillInput): Promise<KillResult> {
    const doc =
      input.parentRunId === undefined ? await this.harness.getRun(input.childRunId) : await this.childOf(input.parentRunId, input.childRunId);
    if (doc.run.parentRunId === null) {
      throw new UsageError(`run ${doc.run.runId} is not a sub-agent; cancel it instead`);
    }
    const before = await loadSubtree(this.harness.deps.store, doc.run.runId);
    const live = before.filter((d) => !isTerminal(d.run.status)).map((d) => d.run.runId);
    await this.harness.cancel(doc.run.runId, input.by, input.reason ?? 'killed');
    await Promise.allSettled(live.map((runId) => this.drives.get(runId)).filter((p) => p !== undefined));
    const killed: string[] = [];
    for (const runId of live) {
      const after = await this.harness.deps.store.get(runId);
      if (after?.run.status === 'cancelled') killed.push(runId);
    }
    return { childRunId: doc.run.runId, killed };
  }

  /**
   * Records `subagent_finished` on `parentRunId` for every finished child that lacks it (after a
   * crash between a child's end and the parent's record). Returns how many were recorded.
   */
  async reconcile(parentRunId: string): Promise<number> {
    const parent = await this.harness.getRun(parentRunId);
    let recorded = 0;
    for (const child of await loadChildren(this.harness.deps.store, parent.run)) {
      if (isTerminal(child.run.status) && (await this.recordFinished(parentRunId, child.run))) recorded += 1;
    }
    return recorded;
  }

  /** Resolves when every background drive and parent notification started so far has settled. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops listening to commits. Background drives keep running (the harness owns them). */
  close(): void {
    this.unsubscribe();
  }

  /** The child's doc, if it is a sub-agent of `parentRunId`; the same error whether it exists or not. */
  private async childOf(parentRunId: string, childRunId: string): Promise<RunDoc> {
    const doc = await this.harness.deps.store.get(childRunId).catch(() => undefined);
    if (!doc || doc.run.parentRunId !== parentRunId) {
      throw new NotFoundError(ErrorCode.RunNotFound, `agent ${preview(childRunId, 80)} is not a sub-agent of run ${parentRunId}`, {
        runId: parentRunId,
      });
    }
    return doc;
  }

  private startDrive(runId: string): void {
    const drive = this.harness.runner.drive(runId).catch((error: unknown) => {
      this.harness.deps.logger.error({ runId, err: asBotError(error).toJSON() }, 'sub-agent drive failed');
    });
    this.drives.set(runId, drive);
    this.track(drive.finally(() => {
      if (this.drives.get(runId) === drive) this.drives.delete(runId);
    }));
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private onCommit(doc: RunDoc, events: readonly TraceEvent[]): void {
    const { run } = doc;
    if (run.parentRunId === null || !isTerminal(run.status)) return;
    if (!events.some((e) => TERMINAL_EVENTS.has(e.event))) return;
    const parentRunId = run.parentRunId;
    this.track(
      this.recordFinished(parentRunId, run).catch((error: unknown) => {
        this.harness.deps.logger.error({ runId: parentRunId, childRunId: run.runId, err: asBotError(error).toJSON() }, 'recording subagent_finished failed');
      }),
    );
  }

  /** Commits the parent's record of a finished child, once (compare-and-set under the run mutex). */
  private async recordFinished(parentRunId: string, child: RunState): Promise<boolean> {
    const parent = await this.harness.deps.store.get(parentRunId);
    if (!parent || hasFinished(parent, child.runId)) return false;
    try {
      const { roles } = this.harness.deps;
      const childStage = stageOf(roles.get(child.role)?.category);
      await this.harness.committer.commit(parentRunId, (draft): RunEventInput[] => {
        if (hasFinished(draft, child.runId)) throw new AlreadyRecorded();
        const events: RunEventInput[] = [];
        if (!draft.run.children.includes(child.runId)) {
          // The process stopped between creating the child and the parent's draft record.
          events.push({ event: 'subagent_drafted', detail: { childRunId: child.runId, role: child.role, task: child.task, by: 'recovery', depth: child.depth } });
        }
        events.push(
          {
            event: 'subagent_finished',
            detail: { childRunId: child.runId, role: child.role, status: child.status, resultPreview: preview(outcomeText(child), RESULT_PREVIEW_CHARS) },
          },
          {
            event: 'role_handoff',
            detail: {
              from_role: child.role,
              to_role: draft.run.role,
              purpose: 'result',
              payload: { childRunId: child.runId, status: child.status, from_stage: childStage, to_stage: stageOf(roles.get(draft.run.role)?.category) },
            },
          },
          {
            event: 'role_activity',
            detail: {
              role: child.role,
              action: child.status,
              payload: { childRunId: child.runId, stage: childStage, tokens: runTokens(child), tool_calls: child.usage.toolCalls },
            },
          },
        );
        if (childStage === 'reviewer') {
          // The seed's review record: a reviewer's verdict on the work it was pointed at.
          events.push({
            event: 'draft_reviewed',
            detail: {
              review: { childRunId: child.runId, role: child.role, status: child.status, verdict: preview(outcomeText(child), RESULT_PREVIEW_CHARS) },
            },
          });
        }
        return events;
      });
      return true;
    } catch (error) {
      if (error instanceof AlreadyRecorded) return false;
      throw error;
    }
  }
}

function hasFinished(parent: RunDoc, childRunId: string): boolean {
  return parent.trace.some((e) => e.event === 'subagent_finished' && e.detail['childRunId'] === childRunId);
}

/** A key naming what the run waits on a human for, or null when it does not wait for one. */

function describeChild(run: RunState, timedOut: boolean): AwaitResult {
  const out: AwaitResult = { childRunId: run.runId, role: run.role, status: run.status, timedOut };
  if (run.status === 'completed') out.result = run.result ?? '';
  if (run.error !== null && isTerminal(run.status)) out.error = { ...run.error };
  const gate = pendingGate(run);
  if (run.status === 'waiting_approval' && gate) {
    out.pendingGate = {
      gateId: gate.gateId,
      tool: gate.tool,
      category: gate.category,
      risk: gate.risk,
      reason: gate.reason,
      lineage: [...gate.lineage],
      approvers: [...gate.approvers],
      expiresAt: gate.expiresAt,
    };
  }
  if (run.status === 'needs_attention' && run.attention) out.attention = run.attention.reason;
  return out;
}
