/**
 * Binds {@link SlackIngress} to a Bolt 5 app. Each listener only translates Bolt's payload into
 * the ingress's input types; the rules live in `slack-ingress.ts`.
 *
 * Acknowledgement (ecosystem.md §1.3): events are acked by Bolt before these listeners run;
 * actions call `await ack()` first, before any other await; view submissions ack with the
 * handler's answer (`response_action: errors` keeps the modal open), which is computed from a
 * local durable write, well within Slack's 3 s.
 */
import type { App } from '@slack/bolt';
import { asBotError } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { ActionIds, CallbackIds, ModalInputs } from '../blocks/action-ids.ts';
import type { SlackIngress } from './slack-ingress.ts';
import type { IncomingClick, IncomingMessage, IncomingSubmission } from './types.ts';

type Loose = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function obj(value: unknown): Loose {
  return value !== null && typeof value === 'object' ? (value as Loose) : {};
}

/**
 * A person's new message from an event, or null for everything else: edits, deletions, joins and
 * other subtypes, and messages from bots (this one included; Bolt's `ignoreSelf` drops most).
 */
export function toIncomingMessage(event: unknown, body: unknown, retryNum: number | undefined): IncomingMessage | null {
  const e = obj(event);
  const b = obj(body);
  if (e['subtype'] !== undefined || e['bot_id'] !== undefined) return null;
  const user = str(e['user']);
  const channel = str(e['channel']);
  const ts = str(e['ts']);
  const eventId = str(b['event_id']);
  if (user === undefined || channel === undefined || ts === undefined || eventId === undefined) return null;
  return {
    eventId,
    teamId: str(b['team_id']),
    appId: str(b['api_app_id']),
    channel,
    channelType: str(e['channel_type']),
    user,
    text: typeof e['text'] === 'string' ? e['text'] : '',
    ts,
    threadTs: str(e['thread_ts']),
    retryNum,
  };
}

/** A click from a `block_actions` body and its (first) action, or null when it is not a button click. */
export function toIncomingClick(body: unknown, action: unknown): IncomingClick | null {
  const b = obj(body);
  const a = obj(action);
  const actionId = str(a['action_id']);
  const userId = str(obj(b['user'])['id']);
  const triggerId = str(b['trigger_id']);
  if (actionId === undefined || userId === undefined || triggerId === undefined) return null;
  const message = obj(b['message']);
  const container = obj(b['container']);
  const channel = str(obj(b['channel'])['id']) ?? str(container['channel_id']);
  return {
    actionId,
    value: str(a['value']),
    userId,
    teamId: str(obj(b['team'])['id']) ?? str(obj(b['user'])['team_id']),
    appId: str(b['api_app_id']),
    triggerId,
    channel: container['type'] === 'view' ? undefined : channel,
    messageTs: str(message['ts']) ?? str(container['message_ts']),
    threadTs: str(message['thread_ts']),
  };
}

/** A `view_submission`, or null when it lacks a user or a view. */
export function toIncomingSubmission(body: unknown): IncomingSubmission | null {
  const b = obj(body);
  const view = obj(b['view']);
  const userId = str(obj(b['user'])['id']);
  const callbackId = str(view['callback_id']);
  if (userId === undefined || callbackId === undefined) return null;
  return {
    callbackId,
    privateMetadata: typeof view['private_metadata'] === 'string' ? view['private_metadata'] : '',
    userId,
    teamId: str(obj(b['team'])['id']) ?? str(obj(b['user'])['team_id']),
    appId: str(b['api_app_id']),
    values: obj(obj(view['state'])['values']) as IncomingSubmission['values'],
  };
}

/** Registers every listener the bot has on `app`. */
export function registerIngressListeners(app: App, ingress: SlackIngress, logger: Logger): void {
  const failed = (what: string) => (error: unknown) => logger.error({ err: asBotError(error).toJSON() }, what);

  app.event('app_mention', async ({ event, body, context }) => {
    const message = toIncomingMessage(event, body, context.retryNum);
    if (message !== null) await ingress.handleMention(message).catch(failed('app_mention handler failed'));
  });

  app.event('message', async ({ event, body, context }) => {
    const message = toIncomingMessage(event, body, context.retryNum);
    if (message !== null) await ingress.handleMessage(message).catch(failed('message handler failed'));
  });

  app.event('app_home_opened', async ({ event }) => {
    await ingress.handleHomeOpened(event.user, event.tab).catch(failed('app_home_opened handler failed'));
  });

  for (const actionId of Object.values(ActionIds)) {
    app.action(actionId, async ({ ack, body, action }) => {
      await ack();
      const click = toIncomingClick(body, action);
      if (click === null) {
        logger.warn({ actionId }, 'action without user or trigger ignored');
        return;
      }
      await ingress.handleClick(click).catch(failed('action handler failed'));
    });
  }

  for (const callbackId of [CallbackIds.rejectModal, CallbackIds.editModal]) {
    app.view(callbackId, async ({ ack, body }) => {
      const submission = toIncomingSubmission(body);
      if (submission === null) {
        await ack();
        return;
      }
      let answer;
      try {
        answer = await ingress.handleSubmission(submission);
      } catch (error) {
        failed('view submission handler failed')(error);
        const field = callbackId === CallbackIds.rejectModal ? ModalInputs.rejectReason : ModalInputs.editArgs;
        answer = { response_action: 'errors' as const, errors: { [field.blockId]: 'Something went wrong; nothing was changed.' } };
      }
      await ack(answer);
    });
  }

  app.error(async (error) => {
    logger.error({ err: asBotError(error).toJSON() }, 'unhandled Bolt error');
  });
}
