/**
 * The last line before Slack: every renderer checks its own output against the Block Kit schema,
 * so a limit we failed to budget is our bug (InvariantError, named where it happened) and never a
 * card Slack refuses in production with `invalid_blocks`.
 */
import { InvariantError } from '../../shared/errors.ts';
import { validateMessageBlocks, validateViewBlocks } from './block-kit-schema.ts';
import type { HomeView, ModalView, SlackMessage } from './types.ts';

/**
 * Returns `message` when its blocks pass `validateMessageBlocks`.
 * @throws InvariantError naming the renderer and Slack-style errors otherwise.
 */
export function checkedMessage(renderer: string, message: SlackMessage): SlackMessage {
  const result = validateMessageBlocks(message.blocks);
  if (!result.ok) throw new InvariantError(`${renderer} built invalid blocks (${result.error}): ${result.errors.slice(0, 3).join('; ')}`);
  return message;
}

/**
 * Returns `view` when its blocks pass `validateViewBlocks`.
 * @throws InvariantError naming the renderer and Slack-style errors otherwise.
 */
export function checkedView<T extends ModalView | HomeView>(renderer: string, view: T): T {
  const result = validateViewBlocks(view.blocks);
  if (!result.ok) throw new InvariantError(`${renderer} built invalid view blocks: ${result.errors.slice(0, 3).join('; ')}`);
  return view;
}
