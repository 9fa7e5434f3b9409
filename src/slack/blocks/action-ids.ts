/**
 * The identifiers interactive Slack payloads carry back: action ids, view callback ids, modal
 * input ids, and the button value format.
 *
 * A button value (and a modal's `private_metadata`) names *which* gate it is about —
 * `{ runId, gateId, nonce }` — and nothing else. It is never authority: who may decide, what the
 * arguments are and whether the gate is still open are read from the store (DESIGN.md §3). The
 * decoders are strict so a forged or extended value is refused before anything is looked up.
 */
import { z } from 'zod';
import { InvariantError } from '../../shared/errors.ts';

/** Every `action_id` the bot's buttons use. */
export const ActionIds = {
  approve: 'gate_approve',
  reject: 'gate_reject',
  edit: 'gate_edit',
  viewArgs: 'gate_view_args',
  requestAgain: 'gate_request_again',
  agentKill: 'agent_kill',
} as const;
/** One of {@link ActionIds}. */
export type ActionId = (typeof ActionIds)[keyof typeof ActionIds];

/** The `callback_id` of each modal the bot opens. */
export const CallbackIds = {
  rejectModal: 'gate_reject_modal',
  editModal: 'gate_edit_modal',
  /** Read-only; never submitted (no submit button). */
  argsModal: 'gate_args_modal',
} as const;
/** One of {@link CallbackIds}. */
export type CallbackId = (typeof CallbackIds)[keyof typeof CallbackIds];

/**
 * Where a submitted modal's input is found: `view.state.values[blockId][actionId].value`.
 */
export const ModalInputs = {
  rejectReason: { blockId: 'reject_reason', actionId: 'reason' },
  editArgs: { blockId: 'edit_args', actionId: 'args_json' },
} as const;

/** Slack's limit for a button `value`. */
export const MAX_BUTTON_VALUE = 2000;

/** Ids, gate ids and nonces use this alphabet (`src/shared/ids.ts`). */
const Token = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/);

/** The decoded value of a gate button or a gate modal's `private_metadata`. */
export const GateActionValue = z.strictObject({ runId: Token, gateId: Token, nonce: Token });
/** See {@link GateActionValue}. */
export type GateActionValue = z.infer<typeof GateActionValue>;

/** The decoded value of a sub-agent Kill button. */
export const AgentActionValue = z.strictObject({ runId: Token });
/** See {@link AgentActionValue}. */
export type AgentActionValue = z.infer<typeof AgentActionValue>;

function decode<T>(schema: z.ZodType<T>, value: unknown): T | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_BUTTON_VALUE) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const result = schema.safeParse(parsed);
  return result.success ? result.data : null;
}

function encode<T>(schema: z.ZodType<T>, value: T, what: string): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvariantError(`cannot encode ${what}: ids outside [A-Za-z0-9_-]{1,80}`);
  return JSON.stringify(parsed.data);
}

/**
 * The button value for a gate: JSON `{"runId","gateId","nonce"}` (well under 2000 chars).
 * Extra properties of `gate` are dropped, never copied.
 * @throws InvariantError when an id is not of the id alphabet (a store bug; never user input).
 */
export function encodeGateAction(gate: { runId: string; gateId: string; nonce: string }): string {
  return encode(GateActionValue, { runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce }, 'gate action');
}

/**
 * Parses a gate button value or modal `private_metadata`. Returns null for anything that is not
 * exactly `{runId, gateId, nonce}` of id-alphabet strings (extra or missing keys, wrong types,
 * bad JSON, oversized). Never throws. The result only *names* a gate; check it against the store.
 */
export function decodeGateAction(value: unknown): GateActionValue | null {
  return decode(GateActionValue, value);
}

/**
 * The Kill button value for a sub-agent run: JSON `{"runId"}`.
 * @throws InvariantError when the run id is not of the id alphabet.
 */
export function encodeAgentAction(runId: string): string {
  return encode(AgentActionValue, { runId }, 'agent action');
}

/** Parses a Kill button value; null for anything but exactly `{runId}`. Never throws. */
export function decodeAgentAction(value: unknown): AgentActionValue | null {
  return decode(AgentActionValue, value);
}
