/**
 * Role handoffs and role executions of a run (`handoffs.json`, `harness handoffs`), rebuilt from
 * the `role_handoff` and `role_activity` trace events. The seed wrote this file for every run,
 * with empty lists for single-role runs; so do we. Pure.
 */
import type { RunDoc, TraceEvent } from '../store/run-schema.ts';
import { detailString, isoTime } from './event-facts.ts';
import { currentRole } from './trace-summary.ts';

/** A JSON value as carried in an event's detail. */
export type Json = TraceEvent['detail'][string];

export interface Handoff {
  seq: number;
  timestamp: string | null;
  from_role: string;
  to_role: string;
  purpose: string;
  payload: Json;
}

export interface RoleExecution {
  seq: number;
  timestamp: string | null;
  role: string;
  action: string;
  payload: Json;
}

export interface HandoffsReport {
  run_id: string;
  /** `multi_agent` when any role activity, handoff or sub-agent was recorded, else `single`. */
  run_mode: 'single' | 'multi_agent';
  current_role: string;
  handoff_count: number;
  role_execution_count: number;
  handoffs: Handoff[];
  role_executions: RoleExecution[];
}

function payloadOf(event: TraceEvent): Json {
  return event.detail['payload'] ?? null;
}

/** Builds the handoffs report of a run, in trace order. */
export function buildHandoffs(doc: RunDoc): HandoffsReport {
  const handoffs: Handoff[] = [];
  const executions: RoleExecution[] = [];
  for (const event of doc.trace) {
    if (event.event === 'role_handoff') {
      handoffs.push({
        seq: event.seq,
        timestamp: isoTime(event.ts),
        from_role: detailString(event, 'from_role') ?? '?',
        to_role: detailString(event, 'to_role') ?? '?',
        purpose: detailString(event, 'purpose') ?? '',
        payload: payloadOf(event),
      });
    } else if (event.event === 'role_activity') {
      executions.push({
        seq: event.seq,
        timestamp: isoTime(event.ts),
        role: detailString(event, 'role') ?? '?',
        action: detailString(event, 'action') ?? '',
        payload: payloadOf(event),
      });
    }
  }
  const multi =
    handoffs.length > 0 ||
    executions.length > 0 ||
    doc.run.children.length > 0 ||
    doc.run.parentRunId !== null;
  return {
    run_id: doc.run.runId,
    run_mode: multi ? 'multi_agent' : 'single',
    current_role: currentRole(doc),
    handoff_count: handoffs.length,
    role_execution_count: executions.length,
    handoffs,
    role_executions: executions,
  };
}
