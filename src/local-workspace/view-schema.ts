/**
 * Validation of the view JSON an app sends to `views.open` / `views.update` / `views.publish`
 * (modal limits from docs.slack.dev: title/submit/close ≤ 24 chars, callback_id ≤ 255,
 * private_metadata ≤ 3000), with the blocks checked by the shared Block Kit schema.
 * Failures use Slack's `invalid_arguments` code and `[ERROR] … [json-pointer:/view/…]` messages.
 */
import { z } from 'zod';
import { validateViewBlocks } from '../slack/blocks/block-kit-schema.ts';
import type { ViewDefinition } from './workspace-state.ts';

const short = z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(24), emoji: z.boolean().optional() });

const common = {
  blocks: z.array(z.unknown()),
  callback_id: z.string().max(255).optional(),
  private_metadata: z.string().max(3000).optional(),
  external_id: z.string().max(255).optional(),
};

const viewSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('modal'),
    title: short,
    submit: short.optional(),
    close: short.optional(),
    clear_on_close: z.boolean().optional(),
    notify_on_close: z.boolean().optional(),
    submit_disabled: z.boolean().optional(),
    ...common,
  }),
  z.strictObject({ type: z.literal('home'), ...common }),
]);

/** The outcome of {@link validateView}. */
export type ViewValidation = { ok: true; view: ViewDefinition } | { ok: false; error: 'invalid_arguments'; errors: string[] };

/**
 * Validates a view definition of the expected type. Never throws. A modal whose blocks contain an
 * input block must have a `submit` button (Slack refuses it otherwise).
 */
export function validateView(raw: unknown, expected: 'modal' | 'home'): ViewValidation {
  const parsed = viewSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      error: 'invalid_arguments',
      errors: parsed.error.issues.map((i) => `${i.message} [json-pointer:/view${i.path.map((p) => `/${String(p)}`).join('')}]`),
    };
  }
  const view = parsed.data;
  if (view.type !== expected) {
    return { ok: false, error: 'invalid_arguments', errors: [`must be "${expected}" [json-pointer:/view/type]`] };
  }
  const blocks = validateViewBlocks(view.blocks);
  if (!blocks.ok) {
    return { ok: false, error: 'invalid_arguments', errors: blocks.errors.map((e) => e.replace('[json-pointer:/blocks', '[json-pointer:/view/blocks')) };
  }
  if (view.type === 'modal' && view.submit === undefined && view.blocks.some((b) => (b as { type?: unknown }).type === 'input')) {
    return { ok: false, error: 'invalid_arguments', errors: ['a modal with input blocks requires submit [json-pointer:/view/submit]'] };
  }
  return { ok: true, view: view as ViewDefinition };
}
