/**
 * Decides what a running run does next, from its persisted state alone (pure). Because the
 * decision depends only on the state, a run resumed after a crash picks up exactly where the last
 * durable write left it.
 */
import type { Gate, RunState, Step } from '../../store/run-schema.ts';

export type NextAction =
  | { kind: 'call_model' }
  | { kind: 'check_step'; step: Step }
  | { kind: 'execute_step'; step: Step }
  /** A step was started but never finished: the process died while the tool ran. */
  | { kind: 'interrupted_step'; step: Step }
  /** The step's gate expired and the run was resumed: ask again. */
  | { kind: 'rerequest_gate'; step: Step; gate: Gate }
  /** A pending gate exists although the run is running (e.g. a crash between events): pause again. */
  | { kind: 'pause'; step: Step; gate: Gate }
  | { kind: 'complete'; result: string };

const OPEN: readonly Step['status'][] = ['proposed', 'approved', 'started', 'awaiting_approval'];

/** The next action for a run whose status is `running`. */
export function nextAction(run: RunState): NextAction {
  const step = run.steps.find((s) => OPEN.includes(s.status));
  if (step) {
    switch (step.status) {
      case 'proposed':
        return { kind: 'check_step', step };
      case 'approved':
        return { kind: 'execute_step', step };
      case 'started':
        return { kind: 'interrupted_step', step };
      default: {
        const gate = run.gates.find((g) => g.gateId === step.gateId);
        if (gate && gate.status === 'pending') return { kind: 'pause', step, gate };
        if (gate) return { kind: 'rerequest_gate', step, gate };
        return { kind: 'check_step', step };
      }
    }
  }
  const last = run.transcript[run.transcript.length - 1];
  if (last?.kind === 'assistant' && last.toolCalls.length === 0) return { kind: 'complete', result: last.text ?? '' };
  return { kind: 'call_model' };
}
