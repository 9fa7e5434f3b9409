/**
 * The harness service: the one API the CLI, the Slack app and the MCP server call. It owns the
 * commit path and the runner; every operation validates its input against the persisted state
 * (never against what a caller or a button claims), writes durably, then acts.
 */
import { computeArgsHash } from '../approvals/args-hash.ts';
import { authorizeDecision } from '../approvals/authorize.ts';
import { approversFor, decide } from '../policy/engine.ts';
import type {
  BotError} from '../shared/errors.ts';
import {
  ApprovalAuthError,
  ApprovalConflictError,
  ErrorCode,
  InvalidStateError,
  NotFoundError,
  UsageError,
  asBotError,
} from '../shared/errors.ts';
import { assertRunId, newRunId } from '../shared/ids.ts';
import type { Gate, Origin, RequestedBy, RunDoc, RunIndexEntry, RunStatus, TraceEvent } from '../store/run-schema.ts';
import { type CommitListener, type Committer, createCommitter } from './commit.ts';
import { buildFollowUpContext } from '../memory/snapshot.ts';
import { DEFAULT_FOLLOW_UP_CONTEXT_TOKENS, DEFAULT_MAX_CONCURRENT_RUNS, type HarnessDeps } from './deps.ts';
import { type QueueListener, type QueuePosition, RunPool } from './run-pool.ts';
import { type RunToolProvider, type RunToolView, toolViewFor } from './tool-view.ts';
import { UserQuota } from './user-quota.ts';
import type { RoleDefinition } from '../agents/role-types.ts';
import type { RunEventInput } from './event-schemas.ts';
import { Runner } from './runner.ts';

/** Input of {@link Harness.createRun}. */
export interface CreateRunInput {
  task: string;
  role?: string;
  requestedBy: RequestedBy;
  origin?: Origin;
  /** Deterministic id (e.g. from a Slack event id) so a redelivery cannot start a second run. */
  runId?: string;
  parentRunId?: string;
}

/** Who is deciding, as established by the transport (Slack ids, or the CLI's `--as`). */
/** Where a human action came from. */
export const ACTOR_SOURCES = ['cli', 'slack', 'mcp', 'admin'] as const;

export interface Actor {
  userId: string;
  source: (typeof ACTOR_SOURCES)[number];
}

export interface DecideInput {
  runId: string;
  /** Defaults to the run's pending gate. */
  gateId?: string;
  /** When present (Slack buttons), must equal the gate's nonce. */
  nonce?: string;
  actor: Actor;
  decision: 'approve' | 'reject';
  reason?: string;
  editedArgs?: unknown;
}

export interface DecideResult {
  doc: RunDoc;
  gate: Gate;
}

const NON_TERMINAL: readonly RunStatus[] = ['queued', 'running', 'waiting_approval', 'needs_attention'];

export class Harness {
  readonly committer: Committer;
  readonly runner: Runner;
  readonly deps: HarnessDeps;
  private readonly quota: UserQuota;
  private readonly pool: RunPool;

  constructor(deps: HarnessDeps) {
    this.quota = new UserQuota(deps.budgets, deps.store);
    this.deps = { ...deps, quota: deps.quota ?? this.quota };
    this.committer = createCommitter(deps.store, deps.clock, deps.redact, (error) =>
      deps.logger.error({ err: asBotError(error).toJSON() }, 'commit listener failed'),
    );
    this.pool = new RunPool({
      capacity: deps.budgets.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS,
      start: (runId) => {
        this.runner.drive(runId).catch((error: unknown) => {
          deps.logger.error({ runId, err: asBotError(error).toJSON() }, 'a run started from the queue failed');
        });
      },
      onListenerError: (error) => deps.logger.error({ err: asBotError(error).toJSON() }, 'queue listener failed'),
    });
    this.committer.onCommit(({ doc, events }) => {
      this.quota.observe(doc, events, deps.clock.now());
      this.pool.observe(doc);
    });
    this.runner = new Runner(this.deps, this.committer, this.pool);
  }

  /**
   * Installs the per-run tool provider (the agent-tool MCP servers). Call once, before any run is
   * driven; `createRuntime` does it through `attachSubagents`.
   */
  useRunTools(provider: RunToolProvider): void {
    this.deps.runTools = provider;
  }

  /** The tools `runId` is offered and may call (its role's plus its own agent tools). */
  async toolsOf(runId: string): Promise<RunToolView> {
    const doc = await this.getRun(runId);
    return toolViewFor(this.deps.registry, this.deps.runTools, doc.run);
  }

  /**
   * Where a queued task waits for a slot of `budgets.maxConcurrentRuns`: 1-based position in a line
   * of `of` runs, or null when it is not waiting (running, paused, ended, or a sub-agent).
   */
  queuePosition(runId: string): QueuePosition | null {
    return this.pool.position(runId);
  }

  /** Called with the ids of runs whose queue position changed (joined, moved up, or left the line). */
  onQueueChange(listener: QueueListener): () => void {
    return this.pool.onChange(listener);
  }

  /** Slots in use and runs waiting (for `doctor`, benchmarks and the status line). */
  poolStats(): { active: number; waiting: number; capacity: number } {
    return { active: this.pool.active, waiting: this.pool.waiting, capacity: this.deps.budgets.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS };
  }

  /** Subscribes to every durable commit (Slack status, cards, MCP notifications). */
  onCommit(listener: CommitListener): () => void {
    return this.committer.onCommit(listener);
  }

  /**
   * Creates a queued run (durably) without driving it.
   * @throws InvalidStateError if `runId` exists already (a duplicate delivery), UsageError for an
   * unknown role or an oversized task.
   */
  async createRun(input: CreateRunInput): Promise<RunDoc> {
    const { deps } = this;
    const task = input.task.trim();
    if (task.length === 0) throw new UsageError('the task is empty');
    if (task.length > deps.budgets.maxInputChars) {
      throw new UsageError(`the task has ${task.length} characters; the limit is ${deps.budgets.maxInputChars}`);
    }
    const roleName = input.role ?? deps.roles.defaultRole;
    const role = deps.roles.get(roleName);
    if (!role) {
      const known = deps.roles.list().map((r) => r.name).join(', ');
      throw new UsageError(`unknown role "${roleName}"; known roles: ${known}`);
    }
    const runId = input.runId === undefined ? newRunId(deps.clock.now()) : assertRunId(input.runId);
    // Sub-agents share their root's slot: only runs a person started count against their cap.
    if (input.parentRunId !== undefined) return this.createAdmitted(input, runId, role, task);
    // Reserved before the first await, so a burst of parallel starts cannot all pass the check.
    const channel = input.origin?.kind === 'slack' ? input.origin.channel : undefined;
    this.quota.admit(input.requestedBy.userId, runId, channel);
    try {
      return await this.createAdmitted(input, runId, role, task);
    } catch (error) {
      this.quota.release(input.requestedBy.userId, runId, channel);
      throw error;
    }
  }

  private async createAdmitted(input: CreateRunInput, runId: string, role: RoleDefinition, task: string): Promise<RunDoc> {
    const { deps } = this;
    let parent: RunDoc | undefined;
    if (input.parentRunId !== undefined) {
      parent = await deps.store.get(input.parentRunId);
      if (!parent) throw new NotFoundError(ErrorCode.RunNotFound, `parent run ${input.parentRunId} not found`);
    }
    const budgets = {
      maxTurns: role.budgets?.maxTurns ?? deps.budgets.maxTurns,
      maxToolCalls: role.budgets?.maxToolCalls ?? deps.budgets.maxToolCalls,
      maxWallMs: role.budgets?.maxWallMs ?? deps.budgets.maxWallMs,
      maxTokens: role.budgets?.maxTokens ?? deps.budgets.maxTokens,
    };
    const doc = await this.committer.create(runId, [
      {
        event: 'run_created',
        detail: {
          runId,
          parentRunId: parent?.run.runId ?? null,
          rootRunId: parent?.run.rootRunId ?? runId,
          depth: parent === undefined ? 0 : parent.run.depth + 1,
          role: role.name,
          lineage: [...(parent?.run.lineage ?? []), role.name],
          task,
          requestedBy: input.requestedBy,
          origin: input.origin ?? { kind: 'cli' },
          policyVersion: deps.policy.version,
          model: deps.model.name,
          budgets,
        },
      },
    ]);
    deps.crash.hit('after-run-created');
    return doc;
  }

  /**
   * Creates (does not drive) the run for a follow-up in the thread of `previousRunId`: the role
   * stays the thread's unless one is given, and the new task is the request first, then the earlier
   * run's context — its request, result, later messages and tool results — within
   * `budgets.followUpContextTokens` (≈ 4 characters a token) and `maxInputChars`. The context is in
   * the task (the run's first message), so the model gets it once, not on every turn.
   * @throws NotFoundError for an unknown previous run; whatever {@link createRun} throws.
   */
  async createFollowUp(input: CreateRunInput & { previousRunId: string }): Promise<RunDoc> {
    const previous = await this.getRun(input.previousRunId);
    const { previousRunId: _previous, ...rest } = input;
    const request = input.task.trim();
    const separator = '\n\n---\n';
    const tokens = this.deps.budgets.followUpContextTokens ?? DEFAULT_FOLLOW_UP_CONTEXT_TOKENS;
    const room = Math.min(tokens * 4, this.deps.budgets.maxInputChars - request.length - separator.length);
    const context = room > 0 ? buildFollowUpContext(previous, { maxChars: room }) : '';
    return this.createRun({
      ...rest,
      role: input.role ?? previous.run.role,
      task: context.length === 0 ? request : `${request}${separator}${context}`,
    });
  }

  /** Creates a run and drives it until it pauses or ends. */
  async startRun(input: CreateRunInput): Promise<RunDoc> {
    const created = await this.createRun(input);
    return this.runner.drive(created.run.runId);
  }

  /** The run, or a NotFoundError naming the id (malformed ids are refused before any I/O). */
  async getRun(runId: string): Promise<RunDoc> {
    const doc = await this.deps.store.get(assertRunId(runId));
    if (!doc) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`);
    return doc;
  }

  /** Index entries, newest first. */
  listRuns(status?: RunStatus): Promise<RunIndexEntry[]> {
    return this.deps.store.list(status === undefined ? {} : { status });
  }

  /**
   * Decides a gate: compare-and-set from `pending`, under the run's mutex, persisted before
   * anything else happens. Refusals are recorded (`approval_refused` + audit) and then thrown.
   * Does not drive the run; {@link approve} and {@link reject} do.
   */
  async decideGate(input: DecideInput): Promise<DecideResult> {
    const { deps } = this;
    const runId = assertRunId(input.runId);
    const now = deps.clock.now();
    let refusal: BotError | undefined;
    let expired = false;
    let decided: Gate | undefined;
    // Edited arguments are validated against the tools this run sees (its own agent tools too).
    const view = input.editedArgs === undefined ? undefined : await this.toolsOf(runId);

    const refuse = (gateId: string, stepId: string | undefined, error: BotError): RunEventInput[] => {
      refusal = error;
      return [
        {
          event: 'approval_refused',
          ...(stepId === undefined ? {} : { stepId }),
          detail: { gateId, userId: input.actor.userId, reason: error.message, source: input.actor.source },
        },
      ];
    };

    const doc = await this.committer.commit(runId, (draft): RunEventInput[] => {
      const run = draft.run;
      const gate =
        input.gateId === undefined
          ? run.gates.find((g) => g.status === 'pending') ?? run.gates[run.gates.length - 1]
          : run.gates.find((g) => g.gateId === input.gateId);
      if (!gate) {
        const message =
          input.gateId === undefined ? `run ${runId} has no approval gate` : `gate ${input.gateId} not found on run ${runId}`;
        return refuse(input.gateId ?? 'none', undefined, new NotFoundError(ErrorCode.GateNotFound, message, { runId }));
      }
      decided = gate;
      if (gate.status !== 'pending') {
        const by = gate.decidedBy === null ? '' : ` by ${gate.decidedBy}`;
        return refuse(
          gate.gateId,
          gate.stepId,
          new ApprovalConflictError(`already ${gate.status}${by}`, {
            runId,
            details: { gateId: gate.gateId, status: gate.status, decidedBy: gate.decidedBy },
          }),
        );
      }
      if (run.status !== 'waiting_approval') {
        return refuse(gate.gateId, gate.stepId, new InvalidStateError(`run ${runId} is ${run.status}, not waiting for approval`, { runId }));
      }
      if (now >= gate.expiresAt) {
        expired = true;
        return [{ event: 'approval_expired', stepId: gate.stepId, detail: { gateId: gate.gateId, stepId: gate.stepId } }];
      }
      const denied = authorizeDecision(gate, input.actor.userId, input.nonce);
      if (denied !== null) {
        return refuse(gate.gateId, gate.stepId, new ApprovalAuthError(denied, { runId, details: { gateId: gate.gateId, userId: input.actor.userId } }));
      }
      if (input.decision === 'reject') {
        const reason = input.reason?.trim() ?? '';
        if (reason.length === 0) throw new UsageError('a rejection needs a reason (it is shown to the model)');
        const events: RunEventInput[] = [
          {
            event: 'approval_rejected',
            stepId: gate.stepId,
            detail: { gateId: gate.gateId, stepId: gate.stepId, by: input.actor.userId, at: now, source: input.actor.source, reason },
          },
        ];
        if (deps.policy.config.rejectEndsRun) {
          events.push({
            event: 'run_failed',
            detail: { error: { code: 'rejected', message: `rejected by ${input.actor.userId}: ${reason}` } },
          });
        } else {
          events.push({ event: 'run_resumed', detail: { by: input.actor.userId, source: input.actor.source } });
        }
        return events;
      }
      let editedArgs: unknown = null;
      let approvedHash = gate.argsHash;
      if (input.editedArgs !== undefined) {
        editedArgs = this.validateEdit(gate, input.editedArgs, run.role, view);
        approvedHash = computeArgsHash(gate.tool, editedArgs, gate.policyVersion);
      }
      return [
        {
          event: 'approval_granted',
          stepId: gate.stepId,
          detail: {
            gateId: gate.gateId,
            stepId: gate.stepId,
            by: input.actor.userId,
            at: now,
            source: input.actor.source,
            editedArgs: editedArgs as never,
            approvedHash,
            reason: input.reason?.trim() || null,
          },
        },
        { event: 'run_resumed', detail: { by: input.actor.userId, source: input.actor.source } },
      ];
    });

    const gate = doc.run.gates.find((g) => g.gateId === decided?.gateId);
    if (refusal) {
      await this.auditEntry(runId, gate?.gateId ?? input.gateId, 'refused', input.actor, refusal.message, gate);
      throw refusal;
    }
    if (!gate) throw new NotFoundError(ErrorCode.GateNotFound, `gate vanished from run ${runId}`);
    await this.audit(gate, expired ? 'expired' : gate.status, input.actor, gate.decisionReason ?? undefined);
    if (expired) {
      throw new ApprovalConflictError(`gate ${gate.gateId} expired; ask again with "harness resume ${runId}" or the card's "Request again" button`, {
        runId,
        details: { gateId: gate.gateId, status: 'expired' },
      });
    }
    deps.crash.hit('after-approval-recorded');
    return { doc, gate };
  }

  /** Approves (optionally with edited arguments) and drives the run on. */
  async approve(input: Omit<DecideInput, 'decision'>): Promise<DecideResult> {
    const result = await this.decideGate({ ...input, decision: 'approve' });
    return { ...result, doc: await this.runner.drive(input.runId) };
  }

  /** Rejects with a reason the model will see, and drives the run on. */
  async reject(input: Omit<DecideInput, 'decision'> & { reason: string }): Promise<DecideResult> {
    const result = await this.decideGate({ ...input, decision: 'reject' });
    return { ...result, doc: await this.runner.drive(input.runId) };
  }

  /** Records a refusal decided by the transport (wrong team or app) for the audit trail. */
  async recordRefusal(runId: string, gateId: string, actor: Actor, reason: string): Promise<void> {
    const doc = await this.committer.commit(assertRunId(runId), (draft): RunEventInput[] => {
      const gate = draft.run.gates.find((g) => g.gateId === gateId);
      return [{ event: 'approval_refused', ...(gate ? { stepId: gate.stepId } : {}), detail: { gateId, userId: actor.userId, reason, source: actor.source } }];
    });
    const gate = doc.run.gates.find((g) => g.gateId === gateId);
    if (gate) await this.audit(gate, 'refused', actor, reason);
  }

  /**
   * Continues a run: after a crash (queued/running), or after its gate expired (asks again).
   * @throws InvalidStateError when the run is terminal, waits on a live gate, or needs attention.
   */
  async resume(runId: string, actor: Actor): Promise<RunDoc> {
    const doc = await this.getRun(runId);
    const run = doc.run;
    switch (run.status) {
      case 'queued':
      case 'running':
        return this.runner.drive(run.runId);
      case 'waiting_approval': {
        const pending = run.gates.find((g) => g.status === 'pending');
        if (pending && this.deps.clock.now() < pending.expiresAt) {
          throw new InvalidStateError(
            `run ${run.runId} is waiting for approval of gate ${pending.gateId} (${pending.tool}); approve or reject it`,
            { runId: run.runId },
          );
        }
        await this.committer.commit(run.runId, (draft): RunEventInput[] => {
          if (draft.run.status !== 'waiting_approval') throw new InvalidStateError(`run ${run.runId} is ${draft.run.status}`);
          const events: RunEventInput[] = [];
          for (const gate of draft.run.gates) {
            if (gate.status === 'pending') {
              events.push({ event: 'approval_expired', stepId: gate.stepId, detail: { gateId: gate.gateId, stepId: gate.stepId } });
            }
          }
          events.push({ event: 'run_resumed', detail: { by: actor.userId, source: actor.source } });
          return events;
        });
        return this.runner.drive(run.runId);
      }
      case 'needs_attention':
        throw new InvalidStateError(
          `run ${run.runId} needs attention: ${run.attention?.reason ?? ''} Use "harness retry-step" or "harness skip-step", or cancel it.`,
          { runId: run.runId },
        );
      default:
        throw new InvalidStateError(`run ${run.runId} is ${run.status}; there is nothing to resume`, { runId: run.runId });
    }
  }

  /** An operator's choice for a run in `needs_attention`. */
  async resolveAttention(runId: string, action: 'retry' | 'skip', actor: Actor): Promise<RunDoc> {
    let refusal: ApprovalAuthError | undefined;
    await this.committer.commit(assertRunId(runId), (draft): RunEventInput[] => {
      const attention = draft.run.attention;
      if (draft.run.status !== 'needs_attention' || attention === null) {
        throw new InvalidStateError(`run ${runId} is ${draft.run.status}, not needs_attention`, { runId });
      }
      // Retrying may repeat a side effect: only someone who could approve it may decide, under the
      // same four-eyes rule as its gate.
      const step = draft.run.steps.find((s) => s.stepId === attention.stepId);
      const gate = draft.run.gates.find((g) => g.gateId === step?.gateId);
      const policy = this.deps.policy.config;
      const approvers = gate?.approvers ?? approversFor(policy, step?.tool ?? '', step?.category ?? '');
      const fourEyes = gate?.fourEyes ?? policy.fourEyes;
      const denied =
        fourEyes && actor.userId === draft.run.requestedBy.userId
          ? 'four-eyes rule: the person who asked for this cannot decide how it continues'
          : approvers.includes(actor.userId)
            ? null
            : `you are not an approver for ${step?.category ?? 'this'} actions`;
      if (denied !== null) {
        refusal = new ApprovalAuthError(denied, { runId });
        return [{ event: 'approval_refused', stepId: attention.stepId, detail: { gateId: gate?.gateId ?? 'none', userId: actor.userId, reason: denied, source: actor.source } }];
      }
      return [{ event: 'attention_resolved', stepId: attention.stepId, detail: { stepId: attention.stepId, action, by: actor.userId } }];
    });
    if (refusal) {
      await this.auditEntry(runId, undefined, 'refused', actor, refusal.message);
      throw refusal;
    }
    return this.runner.drive(runId);
  }

  /**
   * Cancels a run and, recursively, every non-terminal sub-agent below it (DESIGN.md §2: killing a
   * parent cascades); aborts the in-flight work of each (its tool or model call sees the signal).
   * Each cancelled sub-agent gets `run_cancelled` and its parent one `subagent_killed`.
   * @throws InvalidStateError when `runId` itself is already terminal.
   */
  async cancel(runId: string, actor: Actor, reason = 'cancelled'): Promise<RunDoc> {
    const doc = await this.cancelOne(runId, actor, reason);
    // Issue C: the parent learns who killed its child (Slack's Kill button and kill_agent both
    // come here), then the cascade walks down. A terminal child is skipped but still walked: a
    // child that finished without awaiting its own children must not leave them running.
    if (doc.run.parentRunId !== null) await this.recordKilled(doc.run.parentRunId, runId, actor, reason, false);
    await this.cancelDescendants(doc.run, actor, `${reason} (cascaded from ${runId})`);
    return doc;
  }

  private async cancelOne(runId: string, actor: Actor, reason: string): Promise<RunDoc> {
    const doc = await this.committer.commit(assertRunId(runId), (draft): RunEventInput[] => {
      if (!NON_TERMINAL.includes(draft.run.status)) {
        throw new InvalidStateError(`run ${runId} is ${draft.run.status}; it cannot be cancelled`, { runId });
      }
      // P20: a tool cancelled mid-call still gets its end event, so every tool_start is paired.
      const now = this.deps.clock.now();
      // (A run in needs_attention also has a started step: the operator's cancel settles it.)
      const ended: RunEventInput[] = draft.run.steps
        .filter((step) => step.status === 'started' && draft.run.status === 'running')
        .map((step) => ({
          event: 'tool_error',
          stepId: step.stepId,
          detail: {
            stepId: step.stepId,
            tool: step.tool,
            error: { code: 'cancelled', message: `cancelled by ${actor.userId}: ${reason}` },
            retryable: false,
            willRetry: false,
            durationMs: Math.max(0, now - (step.startedAt ?? now)),
            attempt: Math.max(1, step.attempts),
          },
        }));
      return [...ended, { event: 'run_cancelled', detail: { by: actor.userId, reason } }];
    });
    this.runner.abort(runId, new InvalidStateError(`run ${runId} was cancelled`));
    for (const gate of doc.run.gates) if (gate.status === 'cancelled' && gate.decidedBy === null) await this.audit(gate, 'cancelled', actor, reason);
    return doc;
  }

  /** Issue C cascade: cancels the non-terminal runs under `parent`, depth first. */
  private async cancelDescendants(parent: RunDoc['run'], actor: Actor, reason: string): Promise<void> {
    for (const childId of parent.children) {
      const child = await this.deps.store.get(childId);
      if (!child) continue;
      let current = child.run;
      if (NON_TERMINAL.includes(current.status)) {
        try {
          current = (await this.cancelOne(childId, actor, reason)).run;
          await this.recordKilled(parent.runId, childId, actor, reason, true);
        } catch (error) {
          // The child ended between the read and the commit: nothing to cancel, keep walking.
          if (!(error instanceof InvalidStateError)) throw error;
          current = (await this.deps.store.get(childId))?.run ?? current;
        }
      }
      await this.cancelDescendants(current, actor, reason);
    }
  }

  /** Issue C: the parent's record that a sub-agent was killed (an annotation, legal in any status). */
  private async recordKilled(parentRunId: string, childRunId: string, actor: Actor, reason: string, cascade: boolean): Promise<void> {
    try {
      await this.committer.commit(parentRunId, [
        { event: 'subagent_killed', detail: { childRunId, by: actor.userId, source: actor.source, reason, cascade } },
      ]);
    } catch (error) {
      // The child is cancelled already; a missing parent must not turn the kill into a failure.
      this.deps.logger.error({ runId: parentRunId, childRunId, err: asBotError(error).toJSON() }, 'recording subagent_killed failed');
    }
  }

  /** Drives every run left queued or running by a previous process. Returns their ids. */
  async recover(): Promise<string[]> {
    const entries = await this.deps.store.list({ status: ['queued', 'running'] });
    const ids = entries.map((entry) => entry.runId);
    // The pool's line is rebuilt from the store: running roots hold their slots again, queued roots
    // wait oldest first. Sub-agents ride on their root's slot and are driven at once.
    const runningRoots: string[] = [];
    const queuedRoots: { runId: string; createdAt: number }[] = [];
    const direct: string[] = [];
    const docs: RunDoc[] = [];
    for (const entry of entries) {
      const doc = await this.deps.store.get(entry.runId);
      if (!doc) continue;
      docs.push(doc);
      if (doc.run.parentRunId !== null) direct.push(entry.runId);
      else if (doc.run.status === 'running') {
        runningRoots.push(entry.runId);
        direct.push(entry.runId);
      } else queuedRoots.push({ runId: entry.runId, createdAt: doc.run.createdAt });
    }
    await this.backfillDecisionAudit(docs);
    queuedRoots.sort((a, b) => a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : 1));
    this.pool.restore(runningRoots, queuedRoots.map((q) => q.runId));
    for (const runId of direct) {
      this.runner.drive(runId).catch((error: unknown) => {
        this.deps.logger.error({ runId, err: asBotError(error).toJSON() }, 'recovery of a run failed');
      });
    }
    return ids;
  }

  /**
   * Expires gates past their TTL and records reminders for gates close to it. Returns the events
   * committed, so the caller (Slack) can update cards and remind threads.
   */
  async sweepGates(): Promise<TraceEvent[]> {
    const now = this.deps.clock.now();
    const reminderBefore = this.deps.policy.config.reminderBeforeMs;
    const committed: TraceEvent[] = [];
    for (const entry of await this.deps.store.list({ status: 'waiting_approval' })) {
      const before = await this.deps.store.get(entry.runId);
      if (!before) continue;
      const due = before.run.gates.filter(
        (g) => g.status === 'pending' && (now >= g.expiresAt || (g.remindedAt === null && now >= g.expiresAt - reminderBefore)),
      );
      if (due.length === 0) continue;
      const doc = await this.committer.commit(entry.runId, (draft): RunEventInput[] =>
        draft.run.gates
          .filter((g) => g.status === 'pending')
          .flatMap((g): RunEventInput[] => {
            if (now >= g.expiresAt) return [{ event: 'approval_expired', stepId: g.stepId, detail: { gateId: g.gateId, stepId: g.stepId } }];
            if (g.remindedAt === null && now >= g.expiresAt - reminderBefore) return [{ event: 'approval_reminded', stepId: g.stepId, detail: { gateId: g.gateId } }];
            return [];
          }),
      );
      const fresh = doc.trace.slice(before.trace.length);
      committed.push(...fresh);
      for (const event of fresh) {
        if (event.event === 'approval_expired') {
          const gate = doc.run.gates.find((g) => g.gateId === event.detail['gateId']);
          if (gate) await this.audit(gate, 'expired', { userId: 'system', source: 'admin' });
        }
      }
    }
    return committed;
  }

  /** Stops driving (runs stay persisted and resume at the next start). */
  async stop(): Promise<void> {
    this.pool.stop();
    await this.runner.stop();
  }

  private validateEdit(gate: Gate, editedArgs: unknown, role: string, view: RunToolView | undefined): unknown {
    const { deps } = this;
    const tools = view ?? deps.registry;
    const validation = tools.validateArgs(gate.tool, JSON.stringify(editedArgs ?? null), deps.budgets.maxArgumentsBytes);
    if (!validation.ok) throw new UsageError(`edited arguments for ${gate.tool} are invalid: ${validation.error}`);
    const tool = tools.get(gate.tool);
    const targets = tool?.targets?.(validation.args) ?? {};
    const verdict = decide(deps.policy, {
      tool: gate.tool,
      registered: tool !== undefined,
      category: tool?.category ?? 'unknown',
      risk: tool?.risk ?? 'irreversible',
      role,
      roleTools: view ? view.roleTools(deps.roles.get(role)?.tools ?? []) : (deps.roles.get(role)?.tools ?? []),
      writePaths: targets.writePaths ?? [],
      urls: targets.urls ?? [],
    });
    if (verdict.decision === 'deny') throw new UsageError(`edited arguments are denied by policy: ${verdict.reason}`);
    return validation.args;
  }

  /**
   * A decision is committed to the run first and audited right after; a crash between the two
   * leaves a decided gate with no audit line. For the runs being recovered, such gates get their
   * line now, from the gate's own record (who decided, how, the hash), marked as written at
   * recovery. Without an audit log that can be read back, nothing is done.
   */
  private async backfillDecisionAudit(docs: readonly RunDoc[]): Promise<void> {
    const { audit } = this.deps;
    if (!audit?.records || docs.length === 0) return;
    const decided = docs.flatMap((doc) => doc.run.gates.filter((g) => (g.status === 'approved' || g.status === 'rejected') && g.decidedBy !== null));
    if (decided.length === 0) return;
    const written = new Set((await audit.records()).filter((r) => r.action === 'approved' || r.action === 'rejected').map((r) => r.gateId));
    for (const gate of decided) {
      if (written.has(gate.gateId)) continue;
      const source = ACTOR_SOURCES.find((s) => s === gate.decisionSource) ?? 'admin';
      const actor: Actor = { userId: gate.decidedBy ?? 'unknown', source };
      const note = 'audit line written at recovery: the decision was committed just before the process stopped';
      await this.audit(gate, gate.status, actor, gate.decisionReason === null ? note : `${gate.decisionReason} (${note})`);
      this.deps.logger.warn({ runId: gate.runId, gateId: gate.gateId }, 'recovered a decision whose audit line was missing');
    }
  }

  private audit(gate: Gate, action: string, actor: Actor, reason?: string): Promise<void> {
    return this.auditEntry(gate.runId, gate.gateId, action, actor, reason, gate);
  }

  private async auditEntry(runId: string, gateId: string | undefined, action: string, actor: Actor, reason?: string, gate?: Gate): Promise<void> {
    if (!this.deps.audit) return;
    try {
      await this.deps.audit.append({
        ts: this.deps.clock.now(),
        runId,
        ...(gateId === undefined ? {} : { gateId }),
        action,
        actor: actor.userId,
        source: actor.source,
        ...(gate === undefined ? {} : { argsHash: gate.approvedHash ?? gate.argsHash }),
        ...(reason === undefined ? {} : { reason }),
      });
    } catch (error) {
      this.deps.logger.error({ runId, err: asBotError(error).toJSON() }, 'audit append failed');
    }
  }
}
