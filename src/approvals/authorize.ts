/**
 * Who may decide a gate (P7), judged from the gate as persisted, never from what a button carries:
 * the user must be on the gate's approver list, must not be the requester under four-eyes, and a
 * nonce, when the transport supplies one, must match. Team and app ids are the transport's check.
 */
import type { Gate } from '../store/run-schema.ts';

/** Null when `userId` may decide `gate`, otherwise the refusal shown to the user. */
export function authorizeDecision(gate: Gate, userId: string, nonce?: string): string | null {
  if (nonce !== undefined && nonce !== gate.nonce) {
    return 'this approval button does not match the current request; reopen the latest card';
  }
  if (gate.fourEyes && userId === gate.requestedBy.userId) {
    return 'four-eyes rule: the person who asked for this cannot approve it';
  }
  if (!gate.approvers.includes(userId)) {
    return `you are not an approver for ${gate.category} actions`;
  }
  return null;
}
