/**
 * The one write path for runs: events are stamped, redacted, applied by the reducer and appended to
 * the trace in a single durable store update. Nothing is visible (to listeners, Slack or the CLI)
 * before that write has landed: persist before effect.
 */
import type { Clock } from '../shared/clock.ts';
import type { RunStore } from '../store/port.ts';
import { RUN_SCHEMA_VERSION, type RunDoc, type TraceEvent } from '../store/run-schema.ts';
import { applyEvent } from './apply-event.ts';
import type { RunEventInput } from './event-schemas.ts';

/** Receives every committed batch, after it is durable. */
export type CommitListener = (committed: { doc: RunDoc; events: readonly TraceEvent[] }) => void;

export interface Committer {
  /** Creates a run from its `run_created` event (plus any events that belong in the same write). */
  create(runId: string, events: readonly RunEventInput[]): Promise<RunDoc>;
  /**
   * Applies `events` to the run atomically. `guard` runs on the current state inside the run's
   * mutex and may throw to abort the commit (compare-and-set).
   */
  commit(runId: string, events: readonly RunEventInput[] | ((doc: RunDoc) => readonly RunEventInput[])): Promise<RunDoc>;
  onCommit(listener: CommitListener): () => void;
}

/** Builds the committer over a store. */
export function createCommitter(
  store: RunStore,
  clock: Clock,
  redact: (value: unknown) => unknown,
  onListenerError: (error: unknown) => void,
): Committer {
  const listeners = new Set<CommitListener>();

  const stamp = (doc: Pick<RunDoc, 'trace'> & { run: RunDoc['run'] | null }, runId: string, inputs: readonly RunEventInput[]) => {
    let state = doc.run;
    const events: TraceEvent[] = [];
    let seq = doc.trace.length === 0 ? 0 : (doc.trace[doc.trace.length - 1]?.seq ?? 0) + 1;
    for (const input of inputs) {
      const event: TraceEvent = {
        seq,
        ts: clock.now(),
        runId,
        ...(input.stepId === undefined ? {} : { stepId: input.stepId }),
        event: input.event,
        detail: redact(input.detail) as TraceEvent['detail'],
      };
      state = applyEvent(state, event);
      events.push(event);
      seq += 1;
    }
    return { state, events };
  };

  const notify = (doc: RunDoc, events: readonly TraceEvent[]): void => {
    for (const listener of listeners) {
      try {
        listener({ doc, events });
      } catch (error) {
        onListenerError(error);
      }
    }
  };

  return {
    async create(runId, inputs) {
      const { state, events } = stamp({ run: null, trace: [] }, runId, inputs);
      if (state === null) throw new TypeError('create needs a run_created event');
      const doc = await store.create({ schemaVersion: RUN_SCHEMA_VERSION, run: state, trace: events });
      notify(doc, events);
      return doc;
    },
    async commit(runId, inputsOrFn) {
      let events: TraceEvent[] = [];
      const { doc } = await store.update(runId, (draft) => {
        const inputs = typeof inputsOrFn === 'function' ? inputsOrFn(draft) : inputsOrFn;
        const stamped = stamp(draft, runId, inputs);
        if (stamped.state === null) throw new TypeError('commit produced no state');
        draft.run = stamped.state;
        draft.trace.push(...stamped.events);
        events = stamped.events;
      });
      if (events.length > 0) notify(doc, events);
      return doc;
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
