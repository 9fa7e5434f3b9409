/**
 * The words every layer shares: action categories, risk classes and policy decisions. They live
 * here, below both `policy/` and `store/`, so the pure policy engine never imports the store.
 */
import { z } from 'zod';

export const ActionCategory = z.enum([
  'read_only',
  'model_generation',
  'filesystem_write',
  'network',
  'external_message',
  'agent_lifecycle',
  'unknown',
]);
export type ActionCategory = z.infer<typeof ActionCategory>;

/** Risk classes; anything above `read` needs a gate (P11). */
export const Risk = z.enum(['read', 'write', 'external', 'irreversible']);
export type Risk = z.infer<typeof Risk>;

export const Decision = z.enum(['allow', 'approve', 'deny']);
export type Decision = z.infer<typeof Decision>;
