/**
 * The transport-neutral inputs of the ingress handlers. `register-listeners.ts` builds them from
 * Bolt's payloads; unit tests build them directly. Every field is what Slack sent: none of it is
 * authority (who may decide and what a gate holds come from the store).
 */

/** A person's message: an `app_mention`, or a `message` in a DM or a thread. */
export interface IncomingMessage {
  /** `body.event_id`: the dedupe key and the seed of the run id. */
  eventId: string;
  /** `body.team_id`: the workspace the event was delivered for. */
  teamId: string | undefined;
  /** `body.api_app_id`. */
  appId: string | undefined;
  channel: string;
  /** `im` for DMs; `channel`/`group`/`mpim` otherwise (app_mention events carry none). */
  channelType: string | undefined;
  user: string;
  text: string;
  ts: string;
  threadTs: string | undefined;
  /** Bolt's `context.retryNum` (Socket Mode `retry_attempt`, HTTP `X-Slack-Retry-Num`). */
  retryNum: number | undefined;
}

/** A button click (`block_actions` with one action). */
export interface IncomingClick {
  actionId: string;
  /** The button's value; only names a gate or run. */
  value: string | undefined;
  userId: string;
  teamId: string | undefined;
  appId: string | undefined;
  triggerId: string;
  /** Set when the button is on a message (a card); unset for App Home and modal buttons. */
  channel: string | undefined;
  messageTs: string | undefined;
  threadTs: string | undefined;
}

/** A modal submission (`view_submission`). */
export interface IncomingSubmission {
  callbackId: string;
  /** The modal's `private_metadata` (the gate action JSON). */
  privateMetadata: string;
  userId: string;
  teamId: string | undefined;
  appId: string | undefined;
  /** `view.state.values`: blockId → actionId → `{ value }`. */
  values: Record<string, Record<string, { value?: string | null }>>;
}

/** What a view submission handler acks with (`undefined` closes the modal). */
export type ViewAck = { response_action: 'errors'; errors: Record<string, string> } | undefined;

/** The part of the egress publisher the ingress calls (`src/slack/egress/`). */
export interface IngressPublisher {
  /** Shows the card as "processing…" right after a decision committed, before the run drives on. */
  showProcessing(runId: string, gateId: string, userId: string): Promise<void>;
  /** Re-renders a user's App Home. */
  publishAppHome(userId: string): Promise<void>;
}
