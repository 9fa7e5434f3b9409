/**
 * What each external MCP tool does (issue D item 1), over the same services the CLI and Slack use:
 * reads go to the run store; `draft_agent` and `kill_agent` go through the {@link SubagentManager}
 * (so a sub-agent drafted by an external client is an ordinary child run with `parentRunId` and
 * `rootRunId`, and appears in its tree's Slack thread); `await_agent` subscribes to the harness's
 * commits. Nothing here can decide an approval gate.
 *
 * The caller's identity is the client's token NAME (`mcp:<name>`): it is recorded on the runs a
 * write touches (`subagent_drafted.by`, `run_cancelled.by`, `subagent_killed.by`). The token itself
 * never reaches this module.
 */
import type { SubagentManager } from '../../agents/subagents/subagent-manager.ts';
import { agentSummary, isTerminal, loadSubtree, loadTaskContext, pendingGate, preview, taskSummary } from '../../agents/subagents/tree.ts';
import type { Harness } from '../../orchestrator/harness.ts';
import type { Clock } from '../../shared/clock.ts';
import { ErrorCode, InvalidStateError, NotFoundError } from '../../shared/errors.ts';
import type { RunListFilter } from '../../store/port.ts';
import { type Gate, type RunDoc, type RunIndexEntry, type RunState } from '../../store/run-schema.ts';
import type { ExternalToolName } from './tool-specs.ts';
import { humanWaitKey, waitForRun } from '../../agents/subagents/wait-for-run.ts';

/** Read access to runs (the bot's store, or the CLI's lock-free reader). */
export interface RunReadPort {
  get(runId: string): Promise<RunDoc | undefined>;
  list(filter?: RunListFilter): Promise<RunIndexEntry[]>;
}

/** The write side; absent when this process may not change runs (read-only stdio). */
export interface RunLifecyclePort {
  harness: Harness;
  manager: SubagentManager;
}

/** What the handlers need. */
export interface ExternalToolDeps {
  store: RunReadPort;
  clock: Clock;
  lifecycle?: RunLifecyclePort;
  /** Config `agents.contextChars`. */
  contextChars: number;
  /** Config `agents.maxAwaitSeconds`: longer waits are clamped to it. */
  maxAwaitSeconds: number;
  /** Which human waits `await_agent` already reported to which client (shared across requests). */
  awaitMemory: AwaitMemory;
}

/** The client a call comes from. */
export interface CallerIdentity {
  /** The token's name (never the token). */
  name: string;
}

export type ToolHandler = (args: Record<string, unknown>, signal: AbortSignal) => Promise<unknown>;

const ARGS_PREVIEW_CHARS = 300;
const RECENT_EVENTS = 10;

/**
 * Remembers, per client and run, which human waits (`gate:<id>`, `attention:<step>`) an
 * `await_agent` already returned, so awaiting again waits for the decision instead of spinning.
 * Bounded: the oldest entries are dropped first.
 */
export class AwaitMemory {
  private readonly entries = new Map<string, Set<string>>();
  constructor(private readonly maxEntries = 2000) {}

  seen(client: string, runId: string): Set<string> {
    const key = `${client} ${runId}`;
    let set = this.entries.get(key);
    if (set === undefined) {
      set = new Set();
      this.entries.set(key, set);
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
    }
    return set;
  }

  forget(client: string, runId: string): void {
    this.entries.delete(`${client} ${runId}`);
  }
}

/** The actor string recorded on runs for a client. */
export function clientActor(caller: CallerIdentity): string {
  return `mcp:${caller.name}`;
}

/** Handlers for every tool; the server registers only those the client's level allows. */
export function buildExternalHandlers(deps: ExternalToolDeps, caller: CallerIdentity): Record<ExternalToolName, ToolHandler> {
  const { store } = deps;
  const actor = clientActor(caller);
  const load = async (runId: string): Promise<RunDoc> => {
    const doc = await store.get(runId);
    if (!doc) throw new NotFoundError(ErrorCode.RunNotFound, `run ${runId} not found`, { runId });
    return doc;
  };
  const lifecycle = (): RunLifecyclePort => {
    if (deps.lifecycle === undefined) throw new InvalidStateError('this MCP server cannot change runs (it has no write access to the data directory)');
    return deps.lifecycle;
  };

  return {
    async list_agents(args) {
      const me = await load(String(args['run_id']));
      const tree = (await loadSubtree(store, me.run.runId)).slice(1);
      return { run_id: me.run.runId, agents: tree.map(({ run }) => agentSummary(run, me.run, describeGate)) };
    },

    async list_tasks(args) {
      const me = await load(String(args['run_id']));
      const tree = await loadSubtree(store, me.run.rootRunId);
      return { root_id: me.run.rootRunId, tasks: tree.map(({ run }) => ({ ...taskSummary(run), ...(run.runId === me.run.runId ? { named: true } : {}) })) };
    },

    async get_task_context(args) {
      const me = await load(String(args['run_id']));
      const requested = typeof args['max_chars'] === 'number' ? args['max_chars'] : deps.contextChars;
      return loadTaskContext(store, me.run, Math.min(requested, deps.contextChars), 'run_id');
    },

    async list_runs(args) {
      const status = typeof args['status'] === 'string' ? (args['status'] as RunState['status']) : undefined;
      const limit = typeof args['limit'] === 'number' ? args['limit'] : 50;
      const entries = await store.list(status === undefined ? {} : { status });
      return {
        total: entries.length,
        runs: entries.slice(0, limit).map((e) => ({
          run_id: e.runId,
          status: e.status,
          role: e.role,
          task: preview(e.task, 160),
          parent_id: e.parentRunId,
          created_at: new Date(e.createdAt).toISOString(),
          updated_at: new Date(e.updatedAt).toISOString(),
          pending_approvals: e.pendingGates,
        })),
      };
    },

    async get_run(args) {
      const doc = await load(String(args['run_id']));
      return describeRun(doc);
    },

    async list_pending_approvals(args) {
      const runIds =
        typeof args['run_id'] === 'string'
          ? [(await load(args['run_id'])).run.runId]
          : (await store.list({ status: 'waiting_approval' })).map((e) => e.runId);
      const approvals: Record<string, unknown>[] = [];
      for (const runId of runIds) {
        const doc = await store.get(runId);
        for (const gate of doc?.run.gates ?? []) if (gate.status === 'pending') approvals.push(describeGate(gate));
      }
      return {
        approvals,
        how_to_decide: 'Approvals are decided by people: the Approve / Reject buttons in Slack, or `harness approve|reject <run>`. No MCP tool can decide them.',
      };
    },

    async draft_agent(args) {
      const { manager } = lifecycle();
      const drafted = await manager.draft({ parentRunId: String(args['run_id']), role: String(args['role']), task: String(args['task']), by: actor });
      return {
        agent_id: drafted.childRunId,
        parent_id: String(args['run_id']),
        role: drafted.role,
        depth: drafted.depth,
        lineage: drafted.lineage,
        status: 'running',
        next: 'Call await_agent with this agent_id to get its result; its status is also posted in the parent run\'s Slack thread.',
      };
    },

    async await_agent(args, signal) {
      const { harness } = lifecycle();
      const runId = String(args['agent_id']);
      const seconds = Math.min(typeof args['timeout_seconds'] === 'number' ? args['timeout_seconds'] : 60, deps.maxAwaitSeconds);
      const reported = deps.awaitMemory.seen(caller.name, runId);
      const ready = (run: RunState): boolean => {
        if (isTerminal(run.status)) return true;
        const key = humanWaitKey(run);
        return key !== null && !reported.has(key);
      };
      const initial = await load(runId);
      let doc = initial;
      if (!ready(initial.run) && seconds > 0) doc = (await waitForRun(harness, deps.clock, runId, ready, seconds * 1000, signal)) ?? (await load(runId));
      const run = doc.run;
      const timedOut = !ready(run);
      const key = humanWaitKey(run);
      if (key !== null) reported.add(key);
      if (isTerminal(run.status)) deps.awaitMemory.forget(caller.name, runId);
      return {
        agent_id: run.runId,
        role: run.role,
        status: run.status,
        timed_out: timedOut,
        ...(run.status === 'completed' ? { result: run.result ?? '' } : {}),
        ...(run.error !== null && isTerminal(run.status) ? { error: { code: run.error.code, message: run.error.message } } : {}),
        ...pendingApprovalField(run),
        ...(run.status === 'needs_attention' && run.attention ? { attention: run.attention.reason } : {}),
      };
    },

    async kill_agent(args) {
      const { manager } = lifecycle();
      const reason = typeof args['reason'] === 'string' ? args['reason'] : `killed by MCP client ${caller.name}`;
      const killed = await manager.kill({ childRunId: String(args['agent_id']), by: { userId: actor, source: 'mcp' }, reason });
      return { agent_id: killed.childRunId, status: 'cancelled', killed: killed.killed };
    },
  };
}

/** Resolves with the run once `ready`, or null after `timeoutMs`; rejects when `signal` aborts. */
function pendingApprovalField(run: RunState): Record<string, unknown> {
  const gate = pendingGate(run);
  return gate && run.status === 'waiting_approval' ? { pending_approval: describeGate(gate) } : {};
}

function describeGate(gate: Gate): Record<string, unknown> {
  return {
    run_id: gate.runId,
    gate_id: gate.gateId,
    tool: gate.tool,
    category: gate.category,
    risk: gate.risk,
    reason: gate.reason,
    lineage: gate.lineage,
    requested_by: gate.requestedBy.userId,
    args_preview: preview(JSON.stringify(gate.args) ?? 'null', ARGS_PREVIEW_CHARS),
    args_hash_prefix: gate.argsHash.slice(0, 12),
    approvers: gate.approvers,
    expires_at: new Date(gate.expiresAt).toISOString(),
  };
}

function describeRun(doc: RunDoc): Record<string, unknown> {
  const run = doc.run;
  return {
    run_id: run.runId,
    status: run.status,
    role: run.role,
    lineage: run.lineage,
    task: preview(run.task, 2000),
    parent_id: run.parentRunId,
    root_id: run.rootRunId,
    depth: run.depth,
    requested_by: { user: run.requestedBy.userId, source: run.requestedBy.source },
    origin: run.origin.kind,
    created_at: new Date(run.createdAt).toISOString(),
    updated_at: new Date(run.updatedAt).toISOString(),
    usage: run.usage,
    budgets: run.budgets,
    children: run.children,
    ...pendingApprovalField(run),
    ...(run.result === null ? {} : { result: preview(run.result, 4000) }),
    ...(run.error === null ? {} : { error: { code: run.error.code, message: run.error.message } }),
    ...(run.attention === null ? {} : { attention: run.attention.reason }),
    recent_events: doc.trace.slice(-RECENT_EVENTS).map((e) => ({ seq: e.seq, event: e.event, ...(e.stepId === undefined ? {} : { step_id: e.stepId }), at: new Date(e.ts).toISOString() })),
  };
}

