/**
 * Memory views of a run (`memory.json`, `harness memory`), in the seed's three layers
 * (reference/harness-engineering.md §4):
 *
 * - `working_context`: what the agent is working on right now (small, prompt-sized);
 * - `session_state`: the durable facts of the run (status, steps, counts, errors);
 * - `retrieval_memory`: the user messages and tool results of the transcript that match a query.
 *
 * All three are pure views computed from the run document: there is no separate memory store and
 * no embeddings. Scoring follows the seed: the number of distinct query words (lowercased,
 * punctuation stripped) found as substrings of `title + content`; only positive scores are kept;
 * tool results win ties over user messages, then transcript order decides.
 */
import type { RunDoc } from '../store/run-schema.ts';
import { compact, countBy, currentStep, eventsNamed, isoTime, stepError } from '../trace/event-facts.ts';

/** Characters kept of a retrieval result's content. */
export const RETRIEVAL_CONTENT_CHARS = 280;
/** Characters kept of each preview in the working context. */
export const PREVIEW_CHARS = 220;

export interface RetrievalResult {
  kind: 'user_message' | 'tool_result';
  title: string;
  score: number;
  content: string;
}

export interface MemorySnapshot {
  run_id: string;
  layers: {
    working_context: {
      description: string;
      task: string;
      role: string;
      lineage: string[];
      status: string;
      current_step: string;
      pending_gate: {
        gate_id: string;
        step_id: string;
        tool: string;
        args_hash_prefix: string;
        approvers: string[];
        expires_at: string | null;
      } | null;
      attention: { step_id: string; reason: string } | null;
      turn_count: number;
      message_count: number;
      /** The first three successful tool results, compacted. */
      facts_preview: string[];
      latest_assistant_text: string | null;
      result_preview: string | null;
    };
    session_state: {
      description: string;
      run_id: string;
      task: string;
      role: string;
      status: string;
      created_at: string | null;
      updated_at: string | null;
      current_step: string;
      requires_approval: boolean;
      handoff_count: number;
      children: string[];
      files: string[];
      usage: { turns: number; tool_calls: number; input_tokens: number; output_tokens: number; active_ms: number };
      step_results: { step_id: string; tool: string; status: string; attempts: number; error: string | null }[];
      trace_event_counts: Record<string, number>;
      last_error: { code: string; message: string } | null;
    };
    retrieval_memory: {
      description: string;
      query: string;
      top_k: number;
      results: RetrievalResult[];
    };
  };
}

export interface MemorySnapshotOptions {
  /** What to retrieve for; defaults to the run's task (as the seed defaults to its topic). */
  query?: string;
  /** How many results to keep (default 5). */
  topK?: number;
}

/** Distinct query words: lowercased, split on anything that is not a letter or digit, ≥ 2 chars. */
export function queryWords(query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length >= 2);
  return [...new Set(words)];
}

interface Candidate {
  kind: RetrievalResult['kind'];
  title: string;
  content: string;
  order: number;
}

function candidates(doc: RunDoc): Candidate[] {
  const toolOf = new Map(doc.run.steps.map((s) => [s.stepId, s.tool]));
  const out: Candidate[] = [];
  doc.run.transcript.forEach((entry, order) => {
    if (entry.kind === 'user') {
      out.push({ kind: 'user_message', title: `message from ${entry.userId}`, content: entry.text, order });
    } else if (entry.kind === 'tool' && !entry.isError) {
      out.push({ kind: 'tool_result', title: `${toolOf.get(entry.stepId) ?? 'tool'} (step ${entry.stepId})`, content: entry.content, order });
    }
  });
  return out;
}

/** Retrieval over the run's user messages and successful tool results. */
export function retrieve(doc: RunDoc, query: string, topK: number): RetrievalResult[] {
  const words = queryWords(query);
  if (words.length === 0 || topK <= 0) return [];
  return candidates(doc)
    .map((c) => {
      const haystack = `${c.title} ${c.content}`.toLowerCase();
      return { c, score: words.filter((w) => haystack.includes(w)).length };
    })
    .filter((x) => x.score > 0)
    .sort(
      (a, b) =>
        b.score - a.score ||
        Number(b.c.kind === 'tool_result') - Number(a.c.kind === 'tool_result') ||
        a.c.order - b.c.order,
    )
    .slice(0, topK)
    .map(({ c, score }) => ({ kind: c.kind, title: c.title, score, content: compact(c.content, RETRIEVAL_CONTENT_CHARS) }));
}

/** Builds the three memory layers of a run. Pure; never throws on a well-formed {@link RunDoc}. */
export function buildMemorySnapshot(doc: RunDoc, options: MemorySnapshotOptions = {}): MemorySnapshot {
  const { run } = doc;
  const query = options.query ?? run.task;
  const topK = Math.max(0, Math.floor(options.topK ?? 5));
  const pending = run.gates.find((g) => g.status === 'pending');
  const facts = run.transcript.filter((e) => e.kind === 'tool' && !e.isError).slice(0, 3);
  const latestAssistant = [...run.transcript].reverse().find((e) => e.kind === 'assistant' && e.text !== null && e.text.trim() !== '');
  const failedStep = run.steps.filter((s) => s.status === 'failed').at(-1);

  return {
    run_id: run.runId,
    layers: {
      working_context: {
        description: 'What the agent is working on now: the task, where the run stands, what it waits for, and a few recent facts.',
        task: run.task,
        role: run.role,
        lineage: [...run.lineage],
        status: run.status,
        current_step: currentStep(run),
        pending_gate:
          pending === undefined
            ? null
            : {
                gate_id: pending.gateId,
                step_id: pending.stepId,
                tool: pending.tool,
                args_hash_prefix: pending.argsHash.slice(0, 12),
                approvers: [...pending.approvers],
                expires_at: isoTime(pending.expiresAt),
              },
        attention: run.attention === null ? null : { step_id: run.attention.stepId, reason: run.attention.reason },
        turn_count: run.usage.turns,
        message_count: run.transcript.length,
        facts_preview: facts.map((e) => compact(e.kind === 'tool' ? e.content : '', PREVIEW_CHARS)),
        latest_assistant_text:
          latestAssistant?.kind === 'assistant' && latestAssistant.text !== null ? compact(latestAssistant.text, PREVIEW_CHARS) : null,
        result_preview: run.result === null ? null : compact(run.result, PREVIEW_CHARS),
      },
      session_state: {
        description: 'The durable state of the run: status, timestamps, step results, usage and trace counts.',
        run_id: run.runId,
        task: run.task,
        role: run.role,
        status: run.status,
        created_at: isoTime(run.createdAt),
        updated_at: isoTime(run.updatedAt),
        current_step: currentStep(run),
        requires_approval: pending !== undefined,
        handoff_count: eventsNamed(doc, 'role_handoff').length,
        children: [...run.children],
        files: run.files.map((f) => f.path),
        usage: {
          turns: run.usage.turns,
          tool_calls: run.usage.toolCalls,
          input_tokens: run.usage.inputTokens,
          output_tokens: run.usage.outputTokens,
          active_ms: run.usage.activeMs,
        },
        step_results: run.steps.map((s) => ({
          step_id: s.stepId,
          tool: s.tool,
          status: s.status,
          attempts: s.attempts,
          error: s.status === 'succeeded' ? null : (s.output?.isError ? s.output.content : null),
        })),
        trace_event_counts: countBy(doc.trace, (e) => e.event),
        last_error: run.error !== null ? { ...run.error } : failedStep === undefined ? null : stepError(doc, failedStep),
      },
      retrieval_memory: {
        description: 'User messages and tool results of this run that match the query (substring word match, no embeddings).',
        query,
        top_k: topK,
        results: retrieve(doc, query, topK),
      },
    },
  };
}

export interface FollowUpContextOptions {
  /** Hard upper bound on the returned text's length. */
  maxChars: number;
  /** Characters kept of each prior tool result (default 400). */
  perResultChars?: number;
}

/**
 * The context a follow-up in the same thread carries from an earlier run: the original request,
 * its result (or error), later user messages and the tool results, newest first until the budget
 * is spent (then listed in transcript order). The caller includes it once, at the start of the
 * follow-up run, not on every turn. The result is never longer than `maxChars`; it is empty when
 * `maxChars` is 0.
 */
export function buildFollowUpContext(doc: RunDoc, options: FollowUpContextOptions): string {
  const max = Math.max(0, Math.floor(options.maxChars));
  if (max === 0) return '';
  const per = Math.max(40, options.perResultChars ?? 400);
  const { run } = doc;
  const header = `Earlier in this thread (run ${run.runId}, role ${run.role}, status ${run.status}):`;
  let remaining = max;
  const take = (line: string): string | null => {
    const cost = line.length + 1;
    if (cost > remaining) return null;
    remaining -= cost;
    return line;
  };
  const fitted = (prefix: string, text: string, cap: number): string | null => {
    const room = Math.min(cap, remaining - prefix.length - 1);
    if (room < 20) return null;
    return take(`${prefix}${compact(text, room)}`);
  };

  const head = take(header);
  if (head === null) return compact(header, max).slice(0, max);
  const lines: string[] = [head];
  const request = fitted('Original request: ', run.task, Number.POSITIVE_INFINITY);
  if (request !== null) lines.push(request);

  const outcome =
    run.result !== null
      ? fitted('Result: ', run.result, Number.POSITIVE_INFINITY)
      : run.error !== null
        ? fitted('Error: ', `${run.error.code}: ${run.error.message}`, per)
        : null;
  if (outcome !== null) lines.push(outcome);

  const followUps = run.transcript.filter((e) => e.kind === 'user').slice(1);
  for (const message of followUps) {
    const line = message.kind === 'user' ? fitted('Follow-up: ', message.text, per) : null;
    if (line === null) break;
    lines.push(line);
  }

  const toolOf = new Map(run.steps.map((s) => [s.stepId, s.tool]));
  const results = run.transcript.filter((e) => e.kind === 'tool' && !e.isError);
  if (results.length > 0 && take('Tool results:') !== null) {
    const picked: { order: number; line: string }[] = [];
    for (let i = results.length - 1; i >= 0; i -= 1) {
      const entry = results[i];
      if (entry?.kind !== 'tool') continue;
      const line = fitted(`- ${toolOf.get(entry.stepId) ?? 'tool'} (step ${entry.stepId}): `, entry.content, per);
      if (line === null) break;
      picked.push({ order: i, line });
    }
    if (picked.length > 0) {
      lines.push('Tool results:');
      lines.push(...picked.sort((a, b) => a.order - b.order).map((p) => p.line));
    }
  }
  return lines.join('\n').slice(0, max);
}
