/**
 * The transport-level half of click authorisation (DESIGN.md §3, P7): a payload must come from the
 * workspace the bot is installed in and from this app. The other half (approver list, four-eyes,
 * nonce, gate still pending) is the harness's, judged against the store.
 *
 * The team id is always known (config `slack.teamId`, else `auth.test` at startup). Slack's
 * `auth.test` does not return the app id, so unless `slack.appId` is configured (or the transport
 * knows it, as the local workspace does) the first payload that arrives over the authenticated
 * transport pins it; every later payload must carry the same one. The transport itself already binds
 * payloads to this app (Socket Mode: the app-level token; HTTP: the app's signing secret), so the pin
 * is a second, cheap line of defence rather than the only one.
 */

/** Who the bot expects payloads from. */
export interface ExpectedIdentity {
  teamId: string;
  /** Null: pin on first sight (see the module comment). */
  appId: string | null;
}

/** Checks team and app ids of incoming payloads. */
export class IdentityCheck {
  private appId: string | null;

  constructor(private readonly expected: ExpectedIdentity) {
    this.appId = expected.appId;
  }

  get teamId(): string {
    return this.expected.teamId;
  }

  /** The expected (or pinned) app id, null before the first payload when not configured. */
  get pinnedAppId(): string | null {
    return this.appId;
  }

  /**
   * Null when the payload's ids match, otherwise the refusal shown to the user. A missing team or
   * app id is a mismatch: every genuine interactive payload carries both.
   */
  check(teamId: string | undefined, appId: string | undefined): string | null {
    if (teamId !== this.expected.teamId) {
      return `this request came from another Slack workspace (${teamId ?? 'unknown'}); only members of ${this.expected.teamId} can decide here`;
    }
    if (appId === undefined || appId === '') return 'this request does not say which app it is for';
    if (this.appId === null) this.appId = appId;
    if (appId !== this.appId) return `this request was made for another app (${appId})`;
    return null;
  }
}
