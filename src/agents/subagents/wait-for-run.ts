/**
 * Waiting for a run to reach a state, without polling: used by `await_agent` in the per-run agent
 * server (through {@link SubagentManager}) and in the outside-client MCP server.
 */
import type { Harness } from '../../orchestrator/harness.ts';
import type { Clock } from '../../shared/clock.ts';
import type { RunDoc, RunState } from '../../store/run-schema.ts';
import { pendingGate } from './tree.ts';

/**
 * Resolves with the run's document once a commit makes `ready(run)` true, or null when
 * `timeoutMs` passes on `clock` first. Subscribes before its one extra read, so a commit landing
 * between the caller's first read and the subscription is not missed.
 * @throws the signal's reason when `signal` aborts; a store error from that extra read.
 */
export function waitForRun(
  harness: Pick<Harness, 'onCommit' | 'deps'>,
  clock: Pick<Clock, 'sleep'>,
  runId: string,
  ready: (run: RunState) => boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunDoc | null> {
  return new Promise<RunDoc | null>((resolve, reject) => {
    let settled = false;
    const timer = new AbortController();
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => settle(() => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted')));
    const unsubscribe = harness.onCommit(({ doc }) => {
      if (doc.run.runId === runId && ready(doc.run)) settle(() => resolve(doc));
    });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    clock.sleep(timeoutMs, timer.signal).then(
      () => settle(() => resolve(null)),
      () => undefined,
    );
    harness.deps.store.get(runId).then(
      (doc) => {
        if (doc && ready(doc.run)) settle(() => resolve(doc));
      },
      (error: unknown) => settle(() => reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}

/** What a run waits for a human on (`gate:<id>`, `attention:<step>`), or null when it does not. */
export function humanWaitKey(run: RunState): string | null {
  if (run.status === 'waiting_approval') return `gate:${pendingGate(run)?.gateId ?? 'none'}`;
  if (run.status === 'needs_attention') return `attention:${run.attention?.stepId ?? 'none'}`;
  return null;
}
