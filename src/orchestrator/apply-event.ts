/**
 * The pure reducer: `applyEvent(state, event) → state`. A run's state is the fold of its trace, so
 * this is the only code that changes a run, and `replayTrace` rebuilds any stored run from its
 * trace alone (P20). Illegal events (a status change not in `transitions.ts`, a step that does not
 * exist, a gate decided twice) throw `InvariantError`: the commit that carried them is not written.
 */
import { InvariantError } from '../shared/errors.ts';
import type { Gate, RunState, Step, TraceEvent } from '../store/run-schema.ts';
import { isTypedEvent, parseDetail } from './event-schemas.ts';
import { nextStatus } from './transitions.ts';

/** Prefix of every error result the model sees; the scripted model keys its `on_error` on it. */
export const TOOL_ERROR_PREFIX = 'ERROR: ';

function fail(event: TraceEvent, message: string): never {
  throw new InvariantError(`cannot apply ${event.event} (seq ${event.seq}) to run ${event.runId}: ${message}`, {
    runId: event.runId,
  });
}

function stepOf(state: RunState, event: TraceEvent, stepId: string): Step {
  const step = state.steps.find((s) => s.stepId === stepId);
  if (!step) fail(event, `unknown step ${stepId}`);
  return step;
}

function gateOf(state: RunState, event: TraceEvent, gateId: string): Gate {
  const gate = state.gates.find((g) => g.gateId === gateId);
  if (!gate) fail(event, `unknown gate ${gateId}`);
  return gate;
}

/** Records a step's final result and the tool message the model will see next. */
function settleStep(state: RunState, step: Step, status: Step['status'], content: string, isError: boolean, data?: unknown): void {
  step.status = status;
  step.output = data === undefined ? { isError, content } : { isError, content, data: data as never };
  state.transcript.push({
    kind: 'tool',
    toolCallId: step.toolCallId,
    stepId: step.stepId,
    content: isError ? `${TOOL_ERROR_PREFIX}${content}` : content,
    isError,
  });
}

/**
 * Applies one event to a copy of `state` (or creates the state from `run_created`) and returns it.
 * Never mutates its input.
 */
export function applyEvent(state: RunState | null, event: TraceEvent): RunState {
  if (event.event === 'run_created') {
    if (state !== null) fail(event, 'run already exists');
    const d = parseDetail('run_created', event.detail);
    if (d.runId !== event.runId) fail(event, 'runId mismatch');
    return {
      ...d,
      status: 'queued',
      createdAt: event.ts,
      updatedAt: event.ts,
      usage: { turns: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, activeMs: 0 },
      consecutiveInvalid: 0,
      transcript: [{ kind: 'user', text: d.task, userId: d.requestedBy.userId, at: event.ts }],
      steps: [],
      gates: [],
      result: null,
      error: null,
      attention: null,
      files: [],
      children: [],
      posts: [],
    };
  }
  if (state === null) fail(event, 'no run_created before it');
  if (event.runId !== state.runId) fail(event, 'runId mismatch');

  const status = nextStatus(state.status, event.event);
  if (status === null) fail(event, `not allowed while ${state.status}`);

  const next = structuredClone(state);
  next.status = status;
  next.updatedAt = Math.max(next.updatedAt, event.ts);
  if (!isTypedEvent(event.event)) return next;

  switch (event.event) {
    case 'run_started':
      break;
    case 'user_message': {
      const d = parseDetail('user_message', event.detail);
      next.transcript.push({ kind: 'user', text: d.text, userId: d.userId, at: event.ts });
      break;
    }
    case 'model_called': {
      const d = parseDetail('model_called', event.detail);
      next.usage.turns += 1;
      next.usage.inputTokens += d.usage.inputTokens;
      next.usage.outputTokens += d.usage.outputTokens;
      next.usage.activeMs += d.durationMs;
      next.transcript.push({ kind: 'assistant', text: d.text, toolCalls: d.toolCalls, at: event.ts });
      d.toolCalls.forEach((call, index) => {
        next.steps.push({
          stepId: `${d.turn}.${index}`,
          turn: d.turn,
          index,
          toolCallId: call.id,
          tool: call.name,
          argumentsJson: call.argumentsJson,
          args: null,
          originalArgs: null,
          argsHash: null,
          category: null,
          risk: null,
          idempotent: false,
          status: 'proposed',
          decision: null,
          gateId: null,
          attempts: 0,
          startedAt: null,
          finishedAt: null,
          durationMs: null,
          output: null,
        });
      });
      break;
    }
    case 'tool_call_invalid': {
      const d = parseDetail('tool_call_invalid', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (step.status !== 'proposed') fail(event, `step ${step.stepId} is ${step.status}`);
      next.consecutiveInvalid += 1;
      settleStep(next, step, 'invalid', d.error, true);
      break;
    }
    case 'policy_checked': {
      const d = parseDetail('policy_checked', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (step.status !== 'proposed' && step.status !== 'approved') fail(event, `step ${step.stepId} is ${step.status}`);
      step.category = d.category;
      step.risk = d.risk;
      step.idempotent = d.idempotent;
      step.decision = { decision: d.decision, reason: d.reason, rule: d.rule, policyVersion: d.policyVersion };
      if (step.status === 'proposed') {
        step.args = d.args;
        step.argsHash = d.argsHash;
      }
      if (d.rule !== 'unregistered') next.consecutiveInvalid = 0;
      break;
    }
    case 'policy_denied': {
      const d = parseDetail('policy_denied', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (d.rule === 'unregistered') next.consecutiveInvalid += 1;
      settleStep(next, step, 'denied', `policy denied ${d.tool}: ${d.reason}`, true);
      break;
    }
    case 'approval_required': {
      const d = parseDetail('approval_required', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (next.gates.some((g) => g.gateId === d.gate.gateId)) fail(event, `gate ${d.gate.gateId} exists`);
      if (next.gates.some((g) => g.stepId === d.stepId && g.status === 'pending')) {
        fail(event, `step ${d.stepId} already has a pending gate`);
      }
      next.gates.push(d.gate);
      step.status = 'awaiting_approval';
      step.gateId = d.gate.gateId;
      break;
    }
    case 'run_paused':
      break;
    case 'approval_granted': {
      const d = parseDetail('approval_granted', event.detail);
      const gate = gateOf(next, event, d.gateId);
      if (gate.status !== 'pending') fail(event, `gate ${gate.gateId} is ${gate.status}`);
      const step = stepOf(next, event, gate.stepId);
      recordDecision(gate, 'approved', d);
      gate.editedArgs = d.editedArgs;
      gate.approvedHash = d.approvedHash;
      step.status = 'approved';
      if (d.editedArgs !== null) {
        step.originalArgs = step.args;
        step.args = d.editedArgs;
        step.argsHash = d.approvedHash;
      }
      break;
    }
    case 'approval_rejected': {
      const d = parseDetail('approval_rejected', event.detail);
      const gate = gateOf(next, event, d.gateId);
      if (gate.status !== 'pending') fail(event, `gate ${gate.gateId} is ${gate.status}`);
      const step = stepOf(next, event, gate.stepId);
      recordDecision(gate, 'rejected', d);
      settleStep(next, step, 'rejected', `rejected by ${d.by}: ${d.reason}`, true);
      break;
    }
    case 'approval_expired': {
      const d = parseDetail('approval_expired', event.detail);
      const gate = gateOf(next, event, d.gateId);
      if (gate.status !== 'pending') fail(event, `gate ${gate.gateId} is ${gate.status}`);
      gate.status = 'expired';
      break;
    }
    case 'approval_reminded': {
      const d = parseDetail('approval_reminded', event.detail);
      gateOf(next, event, d.gateId).remindedAt = event.ts;
      break;
    }
    case 'run_resumed':
      next.error = null;
      break;
    case 'tool_start': {
      const d = parseDetail('tool_start', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (!['proposed', 'approved', 'started'].includes(step.status)) fail(event, `step ${step.stepId} is ${step.status}`);
      if (step.status !== 'started') next.usage.toolCalls += 1;
      step.status = 'started';
      step.attempts = d.attempt;
      step.startedAt ??= event.ts;
      break;
    }
    case 'tool_ok': {
      const d = parseDetail('tool_ok', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (step.status !== 'started') fail(event, `step ${step.stepId} is ${step.status}`);
      step.attempts = d.attempt;
      step.finishedAt = event.ts;
      step.durationMs = d.durationMs;
      next.usage.activeMs += activeShare(d.durationMs, d.waitedMs);
      for (const file of d.files) {
        next.files = next.files.filter((f) => f.path !== file.path);
        next.files.push(file);
      }
      settleStep(next, step, 'succeeded', d.content, false, d.data);
      break;
    }
    case 'tool_error': {
      const d = parseDetail('tool_error', event.detail);
      const step = stepOf(next, event, d.stepId);
      if (step.status !== 'started') fail(event, `step ${step.stepId} is ${step.status}`);
      step.attempts = d.attempt;
      next.usage.activeMs += activeShare(d.durationMs, d.waitedMs);
      if (!d.willRetry) {
        step.finishedAt = event.ts;
        step.durationMs = d.durationMs;
        // A call cancelled mid-flight (Harness.cancel pairs its tool_start) is cancelled, not failed.
        const cancelled = d.error.code === 'cancelled';
        settleStep(next, step, cancelled ? 'cancelled' : 'failed', `${d.tool} ${cancelled ? 'was cancelled' : 'failed'}: ${d.error.message}`, true);
      }
      break;
    }
    case 'needs_attention': {
      const d = parseDetail('needs_attention', event.detail);
      stepOf(next, event, d.stepId);
      next.attention = { stepId: d.stepId, reason: d.reason };
      break;
    }
    case 'attention_resolved': {
      const d = parseDetail('attention_resolved', event.detail);
      const step = stepOf(next, event, d.stepId);
      next.attention = null;
      if (d.action === 'retry') {
        step.status = step.gateId === null ? 'proposed' : 'approved';
        if (step.status === 'proposed') {
          // A retried step goes through policy again; only its already-approved gate is kept.
          step.decision = null;
        }
      } else {
        settleStep(next, step, 'skipped', `skipped by ${d.by} after an interrupted run`, true);
      }
      break;
    }
    case 'run_completed': {
      const d = parseDetail('run_completed', event.detail);
      next.result = d.result;
      break;
    }
    case 'run_failed': {
      const d = parseDetail('run_failed', event.detail);
      next.error = d.error;
      cancelOpenGates(next);
      break;
    }
    case 'run_cancelled': {
      const d = parseDetail('run_cancelled', event.detail);
      next.error = { code: 'cancelled', message: `cancelled by ${d.by}: ${d.reason}` };
      cancelOpenGates(next);
      for (const step of next.steps) {
        if (['proposed', 'approved', 'awaiting_approval', 'started'].includes(step.status)) step.status = 'cancelled';
      }
      break;
    }
    case 'slack_posted': {
      const d = parseDetail('slack_posted', event.detail);
      next.posts = next.posts.filter((p) => p.key !== d.key);
      next.posts.push({ kind: d.kind, key: d.key, channel: d.channel, ts: d.ts });
      if (d.gateId !== null) gateOf(next, event, d.gateId).card = { channel: d.channel, ts: d.ts };
      break;
    }
    case 'subagent_drafted': {
      const d = parseDetail('subagent_drafted', event.detail);
      if (!next.children.includes(d.childRunId)) next.children.push(d.childRunId);
      break;
    }
  }
  return next;
}

function recordDecision(
  gate: Gate,
  status: 'approved' | 'rejected',
  decision: { by: string; at: number; source: string; reason: string | null },
): void {
  gate.status = status;
  gate.decidedBy = decision.by;
  gate.decidedAt = decision.at;
  gate.decisionSource = decision.source;
  gate.decisionReason = decision.reason;
}

/** The part of a tool's duration that counts as the run's own active work (P18 `maxWallMs`). */
function activeShare(durationMs: number, waitedMs: number | undefined): number {
  return Math.max(0, durationMs - (waitedMs ?? 0));
}

function cancelOpenGates(state: RunState): void {
  for (const gate of state.gates) if (gate.status === 'pending') gate.status = 'cancelled';
}

/** Rebuilds a run's state from its trace alone (P20). Throws InvariantError on an illegal trace. */
export function replayTrace(trace: readonly TraceEvent[]): RunState {
  let state: RunState | null = null;
  for (const event of trace) state = applyEvent(state, event);
  if (state === null) throw new InvariantError('cannot replay an empty trace');
  return state;
}
