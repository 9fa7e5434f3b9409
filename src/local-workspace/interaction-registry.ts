/**
 * Short-lived handles the local workspace hands to the app inside interaction payloads, with
 * Slack's rules: a `trigger_id` opens one modal within 3 s; a `response_url` takes at most 5
 * posts within 30 minutes (ecosystem.md §1.5 and desplega-ai/slack-mock R5, both marked
 * unverified there; enforcing them makes the bot's reliance on them visible in tests).
 */
import type { Clock } from '../shared/clock.ts';
import { newOpaqueId, newTriggerId } from './slack-ids.ts';

/** Where a response_url's posts land. */
export interface ResponseUrlTarget {
  id: string;
  channel: string;
  /** The user whose interaction created it (ephemeral responses go to them). */
  user: string;
  /** The message the interaction came from, if any. */
  messageTs?: string;
  /** True when that message is an ephemeral visible to `user`. */
  isEphemeral: boolean;
  threadTs?: string;
  uses: number;
  createdAt: number;
}

/** Why a trigger or response url was refused (Slack's error codes). */
export type TriggerCheck = { ok: true; user: string } | { ok: false; error: 'invalid_trigger_id' | 'expired_trigger_id' | 'exchanged_trigger_id' };
export type ResponseUrlCheck = { ok: true; target: ResponseUrlTarget } | { ok: false; error: 'expired_url' | 'used_url' };

/** Slack's documented limits for these handles. */
export const InteractionLimits = {
  triggerTtlMs: 3000,
  responseUrlTtlMs: 30 * 60 * 1000,
  responseUrlUses: 5,
} as const;

/** Issues and checks trigger ids and response urls. */
export class InteractionRegistry {
  private readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  private readonly responseUrls = new Map<string, ResponseUrlTarget>();

  constructor(
    private readonly clock: Clock,
    private readonly triggerTtlMs: number = InteractionLimits.triggerTtlMs,
  ) {}

  /** A fresh trigger id bound to `user`. */
  issueTrigger(user: string): string {
    const id = newTriggerId(this.clock.now());
    this.triggers.set(id, { user, issuedAt: this.clock.now(), used: false });
    return id;
  }

  /** Checks and consumes a trigger id (single use, {@link InteractionLimits.triggerTtlMs}). */
  useTrigger(id: string): TriggerCheck {
    const trigger = this.triggers.get(id);
    if (trigger === undefined) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (this.clock.now() - trigger.issuedAt > this.triggerTtlMs) return { ok: false, error: 'expired_trigger_id' };
    trigger.used = true;
    return { ok: true, user: trigger.user };
  }

  /** A fresh response-url id for an interaction. */
  issueResponseUrl(target: Omit<ResponseUrlTarget, 'id' | 'uses' | 'createdAt'>): string {
    const id = newOpaqueId();
    this.responseUrls.set(id, { ...target, id, uses: 0, createdAt: this.clock.now() });
    return id;
  }

  /** Checks and counts one use of a response url. Unknown ids count as expired. */
  useResponseUrl(id: string): ResponseUrlCheck {
    const target = this.responseUrls.get(id);
    if (target === undefined || this.clock.now() - target.createdAt > InteractionLimits.responseUrlTtlMs) {
      return { ok: false, error: 'expired_url' };
    }
    if (target.uses >= InteractionLimits.responseUrlUses) return { ok: false, error: 'used_url' };
    target.uses += 1;
    return { ok: true, target: { ...target } };
  }
}
