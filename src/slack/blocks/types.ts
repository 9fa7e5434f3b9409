/**
 * The shapes the renderers return: a chat message, a modal and an App Home view. Blocks are typed
 * by the project's Block Kit schema (`block-kit-schema.ts`), so a renderer cannot build a block
 * kind the validator does not know.
 */
import type { KnownBlock } from './block-kit-schema.ts';
import type { PlainTextObject } from './mrkdwn.ts';

/** A message for `chat.postMessage` / `chat.update`: plain, escaped fallback `text` plus blocks. */
export interface SlackMessage {
  /** Notification and accessibility fallback; escaped, never contains a mention. */
  text: string;
  blocks: KnownBlock[];
}

/** A modal for `views.open` / `views.update`. */
export interface ModalView {
  type: 'modal';
  callback_id: string;
  /** ≤ 24 characters, as are `submit` and `close`. */
  title: PlainTextObject;
  submit?: PlainTextObject;
  close: PlainTextObject;
  /** The gate action JSON (`encodeGateAction`): names the gate, never authority. */
  private_metadata: string;
  blocks: KnownBlock[];
}

/** An App Home tab for `views.publish`. */
export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}
