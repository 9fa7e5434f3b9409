/**
 * One admin request → one {@link Harness} call. Both paths of a CLI write go through here: the
 * bot's admin socket server (the bot owns the data directory) and the CLI itself (no bot running,
 * the CLI took the lock). So a write means the same thing whichever process applies it: same
 * Harness method, same arguments, the actor recorded with source `cli`.
 */
import type { Actor, Harness } from '../orchestrator/harness.ts';
import type { AdminRequest, AdminResult } from './protocol.ts';

/** The Harness operations a CLI write may call. */
export type AdminTarget = Pick<Harness, 'startRun' | 'approve' | 'reject' | 'resume' | 'cancel' | 'resolveAttention'>;

/** The Harness actor of a request: always `cli`, whatever the caller claims (it cannot claim any). */
export function requestActor(request: AdminRequest): Actor {
  return { userId: request.actor.userId, source: 'cli' };
}

/**
 * Applies a validated request.
 * @throws whatever the Harness throws (UsageError, ApprovalConflictError, ApprovalAuthError, …).
 */
export async function applyAdminRequest(target: AdminTarget, request: AdminRequest): Promise<AdminResult> {
  const actor = requestActor(request);
  switch (request.op) {
    case 'start': {
      const { task, role } = request.args;
      const doc = await target.startRun({
        task,
        ...(role === undefined ? {} : { role }),
        requestedBy: { userId: actor.userId, source: 'cli' },
        origin: { kind: 'cli' },
      });
      return { doc };
    }
    case 'approve': {
      const { runId, gateId, editedArgs, reason } = request.args;
      return target.approve({
        runId,
        actor,
        ...(gateId === undefined ? {} : { gateId }),
        ...(editedArgs === undefined ? {} : { editedArgs }),
        ...(reason === undefined ? {} : { reason }),
      });
    }
    case 'reject': {
      const { runId, gateId, reason } = request.args;
      return target.reject({ runId, actor, reason, ...(gateId === undefined ? {} : { gateId }) });
    }
    case 'resume':
      return { doc: await target.resume(request.args.runId, actor) };
    case 'cancel':
      return { doc: await target.cancel(request.args.runId, actor, request.args.reason) };
    case 'retry-step':
      return { doc: await target.resolveAttention(request.args.runId, 'retry', actor) };
    case 'skip-step':
      return { doc: await target.resolveAttention(request.args.runId, 'skip', actor) };
  }
}

/** The run a request addresses, for logs (`start` has none yet). */
export function requestRunId(request: AdminRequest): string | undefined {
  return request.op === 'start' ? undefined : request.args.runId;
}
