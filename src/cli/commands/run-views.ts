/**
 * Read commands over runs: `runs`, `inspect`, `summary`, `trace-summary`, `memory`, `handoffs`,
 * `export`, `history` and `pending`. They open the store without the lock and create nothing in
 * the data directory (only `export` writes, and only into its `--out` folder).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { buildMemorySnapshot } from '../../memory/snapshot.ts';
import { UsageError } from '../../shared/errors.ts';
import { RunStatus, TraceEventName, type RunDoc } from '../../store/run-schema.ts';
import { exportRunArtifacts } from '../../trace/export.ts';
import { buildHandoffs } from '../../trace/handoffs.ts';
import { buildRunSummary } from '../../trace/run-summary.ts';
import { buildTraceSummary } from '../../trace/trace-summary.ts';
import { RUN_OPTIONS, nonNegativeIntOption, optionalRunRef, runRef, stringOption } from '../args.ts';
import type { CommandInput, CommandSpec } from '../command.ts';
import { type ReadContext, resolveRun, withReadContext } from '../context.ts';
import { type CommandOutput, alignRows, clip, isoTime } from '../output.ts';
import { type GateView, gateView, renderEventLine, renderGate, renderOutcome, renderRunList, runOutcome } from '../render.ts';

const ONE_RUN = { min: 0, max: 1, names: '<run>' };

/** Runs `fn` on the run named by `<run>` / `--latest`, read-only. */
function withRun(input: CommandInput, fn: (doc: RunDoc, read: ReadContext) => Promise<CommandOutput>): Promise<CommandOutput> {
  const ref = runRef(input.ctx.command, input.positionals[0], input.values);
  return withReadContext(input.ctx, async (read) => fn(await resolveRun(read.runs, ref), read));
}

/** `harness runs [--status S]`. */
export const runsCommand: CommandSpec = {
  name: 'runs',
  usage: 'harness runs [--status S]',
  summary: 'list runs, newest first (from the run index)',
  options: { status: { type: 'string' } },
  positionals: { min: 0, max: 0, names: '' },
  writes: false,
  async run({ ctx, values }) {
    const raw = stringOption(values, 'status');
    let status: RunStatus | undefined;
    if (raw !== undefined) {
      const parsed = RunStatus.safeParse(raw);
      if (!parsed.success) throw new UsageError(`runs: unknown status ${JSON.stringify(raw)}; expected one of ${RunStatus.options.join(', ')}`);
      status = parsed.data;
    }
    return withReadContext(ctx, async (read) => {
      const runs = await read.runs.list(status === undefined ? {} : { status });
      return { data: { data_dir: read.config.dataDir, count: runs.length, runs }, text: renderRunList(runs) };
    });
  },
};

/** `harness inspect <run>`: the run's state (what `export` writes as state.json). */
export const inspectCommand: CommandSpec = {
  name: 'inspect',
  usage: 'harness inspect <run>|--latest',
  summary: "the run's full state: steps, gates, transcript, usage",
  options: RUN_OPTIONS,
  positionals: ONE_RUN,
  writes: false,
  run: (input) =>
    withRun(input, async (doc) => {
      const { run } = doc;
      const steps = run.steps.map((s) => [s.stepId, s.tool, s.status, s.decision?.decision ?? '-', String(s.attempts), s.durationMs === null ? '-' : `${s.durationMs}ms`]);
      const parts = [renderOutcome(runOutcome(doc))];
      parts.push(
        '',
        alignRows([
          ['created', isoTime(run.createdAt)],
          ['updated', isoTime(run.updatedAt)],
          ['model', run.model],
          ['policy', run.policyVersion],
          ['requested by', `${run.requestedBy.userId} (${run.requestedBy.source})`],
          ['usage', `${run.usage.turns} turns, ${run.usage.toolCalls} tool calls, ${run.usage.inputTokens}+${run.usage.outputTokens} tokens`],
          ['trace', `${doc.trace.length} events (harness history ${run.runId})`],
        ]),
      );
      if (steps.length > 0) parts.push('', alignRows([['STEP', 'TOOL', 'STATUS', 'POLICY', 'ATTEMPTS', 'TIME'], ...steps]));
      const decided = run.gates.filter((g) => g.status !== 'pending');
      for (const gate of decided) parts.push('', renderGate(gateView(gate)));
      return { data: run, text: parts.join('\n') };
    }),
};

/** `harness summary <run>`. */
export const summaryCommand: CommandSpec = {
  name: 'summary',
  usage: 'harness summary <run>|--latest',
  summary: 'the run summary (summary.json): status, steps, approvals, cost, next commands',
  options: RUN_OPTIONS,
  positionals: ONE_RUN,
  writes: false,
  run: (input) =>
    withRun(input, async (doc) => {
      const s = buildRunSummary(doc);
      const rows: string[][] = [
        ['run', s.run_id],
        ['status', `${s.status} (step ${s.current_step})`],
        ['role', `${s.role}  lineage ${s.lineage.join(' > ')}`],
        ['task', clip(s.task, 120, false)],
        ['steps', `${s.step_count} (${s.steps_succeeded} ok, ${s.steps_failed} failed, ${s.steps_denied} denied, ${s.steps_rejected} rejected)`],
        ['approvals', `${s.approval_count} granted, ${s.rejection_count} rejected, ${s.pending_gates.length} pending`],
        ['usage', `${s.usage.turns} turns, ${s.usage.tool_calls} tool calls, ${s.usage.input_tokens}+${s.usage.output_tokens} tokens`],
        ['duration', `${s.duration_ms}ms`],
      ];
      if (s.last_error !== null) rows.push(['last error', `${s.last_error.code}: ${s.last_error.message}`]);
      if (s.result_preview !== null) rows.push(['result', s.result_preview]);
      for (const f of s.files) rows.push(['file', f.path]);
      const next = s.next_commands.length > 0 ? `\nnext:\n${s.next_commands.map((c) => `  ${c}`).join('\n')}` : '';
      return { data: s, text: alignRows(rows) + next };
    }),
};

/** `harness trace-summary <run>`. */
export const traceSummaryCommand: CommandSpec = {
  name: 'trace-summary',
  usage: 'harness trace-summary <run>|--latest',
  summary: 'the trace roll-up (trace_summary.json): counts by event/tool/category, approvals, policy',
  options: RUN_OPTIONS,
  positionals: ONE_RUN,
  writes: false,
  run: (input) =>
    withRun(input, async (doc) => {
      const t = buildTraceSummary(doc);
      const byEvent = Object.entries(t.counts.by_event).map(([event, n]) => [`  ${event}`, String(n)]);
      const rows: string[][] = [
        ['run', `${t.run_id} (${t.status})`],
        ['events', String(t.counts.trace_events)],
        ...byEvent,
        ['steps', `${t.counts.steps}  ${Object.entries(t.counts.by_tool).map(([tool, n]) => `${tool}×${n}`).join(' ')}`],
        ['approval', `${t.approval.approved} approved, ${t.approval.rejected} rejected, ${t.approval.pending} pending, ${t.approval.refused} refused`],
        ['policy', `${t.policy.checks} checks, ${t.policy.denials} denials (version ${t.policy.policy_version})`],
        ['tool time', `${t.performance.total_duration_ms}ms; model ${t.performance.model_duration_ms}ms`],
      ];
      return { data: t, text: alignRows(rows) };
    }),
};

/** `harness memory <run> [--query Q] [--top-k N]`. */
export const memoryCommand: CommandSpec = {
  name: 'memory',
  usage: 'harness memory <run>|--latest [--query Q] [--top-k N]',
  summary: 'the memory layers (memory.json): working context, session state, retrieval',
  options: { ...RUN_OPTIONS, query: { type: 'string' }, 'top-k': { type: 'string' } },
  positionals: ONE_RUN,
  writes: false,
  run(input) {
    const topK = nonNegativeIntOption('memory', input.values, 'top-k');
    const query = stringOption(input.values, 'query');
    return withRun(input, async (doc) => {
      const m = buildMemorySnapshot(doc, { ...(query === undefined ? {} : { query }), ...(topK === undefined ? {} : { topK }) });
      const w = m.layers.working_context;
      const r = m.layers.retrieval_memory;
      const lines = [
        alignRows([
          ['run', m.run_id],
          ['status', `${w.status} (step ${w.current_step})`],
          ['turns', `${w.turn_count} turns, ${w.message_count} messages`],
          ['query', `${JSON.stringify(r.query)} (top ${r.top_k})`],
        ]),
        ...r.results.map((hit) => `  ${hit.score.toFixed(2)}  ${hit.kind}  ${hit.title}: ${clip(hit.content, 100, false)}`),
      ];
      return { data: m, text: lines.join('\n') };
    });
  },
};

/** `harness handoffs <run>`. */
export const handoffsCommand: CommandSpec = {
  name: 'handoffs',
  usage: 'harness handoffs <run>|--latest',
  summary: 'role handoffs and role activity (handoffs.json)',
  options: RUN_OPTIONS,
  positionals: ONE_RUN,
  writes: false,
  run: (input) =>
    withRun(input, async (doc) => {
      const h = buildHandoffs(doc);
      const rows = [
        ['run', `${h.run_id} (${h.run_mode}, current role ${h.current_role})`],
        ['handoffs', String(h.handoff_count)],
        ['role actions', String(h.role_execution_count)],
      ];
      const list = h.handoffs.map((x) => `  #${x.seq} ${x.timestamp ?? '-'} ${x.purpose}`);
      return { data: h, text: [alignRows(rows), ...list].join('\n') };
    }),
};

/** `harness export <run> [--out DIR]`. */
export const exportCommand: CommandSpec = {
  name: 'export',
  usage: 'harness export <run>|--latest [--out DIR]',
  summary: 'write state/trace/summary/memory/trace_summary/handoffs JSON and produced files (default ./exports/<run>)',
  options: { ...RUN_OPTIONS, out: { type: 'string' } },
  positionals: ONE_RUN,
  writes: false,
  run: (input) =>
    withRun(input, async (doc, read) => {
      const out = stringOption(input.values, 'out');
      const cwd = input.ctx.io.cwd;
      const outDir = out === undefined ? join(cwd, 'exports', doc.run.runId) : isAbsolute(out) ? out : resolve(cwd, out);
      const result = await exportRunArtifacts(doc, outDir, { workspaceRoot: read.config.workspaceRoot });
      const lines = [`exported ${doc.run.runId} to ${result.outDir}`, ...result.written.map((file) => `  ${file}`)];
      for (const skipped of result.skipped) lines.push(`  skipped ${skipped.path}: ${skipped.reason}`);
      for (const changed of result.changed) lines.push(`  changed since the run wrote it: ${changed}`);
      return { data: { run_id: doc.run.runId, ...result }, text: lines.join('\n') };
    }),
};

/**
 * The last `tail` of `events` (all when `tail` is undefined, none when it is 0). The seed's
 * `events[-tail:]` returned everything for 0; this never does.
 */
export function tailEvents<T>(events: readonly T[], tail: number | undefined): T[] {
  if (tail === undefined) return [...events];
  if (tail === 0) return [];
  return events.slice(Math.max(0, events.length - tail));
}

/** `harness history <run> [--event E] [--tail N]`. */
export const historyCommand: CommandSpec = {
  name: 'history',
  usage: 'harness history <run>|--latest [--event E] [--tail N]',
  summary: 'trace events in order; --event filters by name, --tail N keeps the last N (0 = none)',
  options: { ...RUN_OPTIONS, event: { type: 'string' }, tail: { type: 'string' } },
  positionals: ONE_RUN,
  writes: false,
  run(input) {
    const tail = nonNegativeIntOption('history', input.values, 'tail');
    const rawEvent = stringOption(input.values, 'event');
    let eventName: TraceEventName | undefined;
    if (rawEvent !== undefined) {
      const parsed = TraceEventName.safeParse(rawEvent);
      if (!parsed.success) throw new UsageError(`history: unknown event ${JSON.stringify(rawEvent)}; expected one of ${TraceEventName.options.join(', ')}`);
      eventName = parsed.data;
    }
    return withRun(input, async (doc) => {
      const matching = eventName === undefined ? doc.trace : doc.trace.filter((e) => e.event === eventName);
      const events = tailEvents(matching, tail);
      const header = `${doc.run.runId}: ${events.length} of ${matching.length} event(s)${eventName === undefined ? '' : ` named ${eventName}`} (${doc.trace.length} in the trace)`;
      const table = events.length === 0 ? '' : `\n${alignRows([['SEQ', 'TIME', 'EVENT', 'STEP', 'DETAIL'], ...events.map(renderEventLine)])}`;
      return {
        data: { run_id: doc.run.runId, total: doc.trace.length, matching: matching.length, returned: events.length, events },
        text: header + table,
      };
    });
  },
};

/** `harness pending [<run>]`: open gates, with what an approver needs to decide. */
export const pendingCommand: CommandSpec = {
  name: 'pending',
  usage: 'harness pending [<run>|--latest]',
  summary: 'open approval gates: tool, args, hash, approvers, expiry',
  options: RUN_OPTIONS,
  positionals: ONE_RUN,
  writes: false,
  run({ ctx, values, positionals }) {
    const ref = optionalRunRef('pending', positionals[0], values);
    return withReadContext(ctx, async (read) => {
      const docs: RunDoc[] = [];
      if (ref !== undefined) {
        docs.push(await resolveRun(read.runs, ref));
      } else {
        for (const entry of await read.runs.list({ status: 'waiting_approval' })) {
          const doc = await read.runs.get(entry.runId);
          if (doc) docs.push(doc);
        }
      }
      const gates: (GateView & { task: string })[] = [];
      for (const doc of docs) {
        for (const gate of doc.run.gates) if (gate.status === 'pending') gates.push({ ...gateView(gate), task: doc.run.task });
      }
      const text =
        gates.length === 0
          ? 'no pending approvals'
          : gates
              .map((g) => `${g.run_id}  ${clip(g.task, 80, false)}\n${renderGate(g, '  ')}\n  approve: harness approve ${g.run_id} --as ${g.approvers[0] ?? '<approver>'} --gate ${g.gate_id}`)
              .join('\n\n');
      return { data: { count: gates.length, gates }, text };
    });
  },
};
