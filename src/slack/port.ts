/**
 * The Slack seam (STYLE.md point 2). Everything the bot sends to Slack goes through this interface:
 * `web-client-port.ts` adapts Bolt's WebClient (real Slack or any Slack-compatible server via
 * `SLACK_API_URL`), and `testing/fake-slack-port.ts` is the in-memory fake that fails loudly.
 *
 * Contract for implementations:
 * - Rate limits (429 + Retry-After) are waited out inside the port; a call resolves once it landed.
 * - Any other failure throws `SlackApiError` with the Slack error code in `details.slackError`
 *   (`invalid_blocks`, `channel_not_found`, …) and `retryable` set for transport errors and 5xx.
 * - No method logs or returns a token.
 */

/** Message metadata: lets a restarted bot find a card it posted but never recorded (P15). */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string | number | boolean>;
}

export interface PostMessageInput {
  channel: string;
  threadTs?: string;
  text: string;
  blocks?: readonly unknown[];
  metadata?: MessageMetadata;
}

export interface UpdateMessageInput {
  channel: string;
  ts: string;
  text: string;
  /** Pass `[]` to clear blocks; omitting them keeps Slack's default (text only). */
  blocks?: readonly unknown[];
  metadata?: MessageMetadata;
}

export interface EphemeralInput {
  channel: string;
  user: string;
  threadTs?: string;
  text: string;
  blocks?: readonly unknown[];
}

export interface SlackPort {
  postMessage(input: PostMessageInput): Promise<{ channel: string; ts: string }>;
  updateMessage(input: UpdateMessageInput): Promise<void>;
  postEphemeral(input: EphemeralInput): Promise<void>;
  /** Ignores `already_reacted`. */
  addReaction(input: { channel: string; ts: string; name: string }): Promise<void>;
  /** Ignores `no_reaction`. */
  removeReaction(input: { channel: string; ts: string; name: string }): Promise<void>;
  /** Null when Slack cannot give one. */
  getPermalink(input: { channel: string; ts: string }): Promise<string | null>;
  openView(input: { triggerId: string; view: Record<string, unknown> }): Promise<{ viewId: string }>;
  updateView(input: { viewId: string; view: Record<string, unknown> }): Promise<void>;
  publishHome(input: { userId: string; view: Record<string, unknown> }): Promise<void>;
  /** `assistant.threads.setStatus`; an empty status clears it. */
  setThreadStatus(input: { channel: string; threadTs: string; status: string }): Promise<void>;
  /**
   * Finds a message this bot posted in a thread whose metadata has `event_type` and
   * `event_payload.key === key` (reconciliation after a crash between post and record). With
   * `runId`, `event_payload.runId` must match too: several runs can share one thread, and keys
   * such as `status` are per run.
   */
  findPostedMessage(input: { channel: string; threadTs: string; eventType: string; key: string; runId?: string }): Promise<{ ts: string } | null>;
}
