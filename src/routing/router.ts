/**
 * The router (DESIGN.md §1 `router/`, issue C item 2): which role a person's message goes to. Pure:
 * no I/O, no Slack, no store; the Slack ingress calls it with the text it already stripped of the
 * bot's mention, and acts on the decision (starts a run, or replies with the help text).
 *
 * Precedence, first match wins:
 * 1. `as <role> …` at the start (`@harness as researcher find X`);
 * 2. `<role>: …` at the start (`researcher: find X`);
 * 3. a follow-up in a thread keeps the role of that thread's run;
 * 4. the channel's role (`routing.channels`);
 * 5. the default role (`roles.default`).
 *
 * An explicit role (1, 2) wins over the thread's role: a person who names a role means it.
 *
 * When is a word "clearly a role name"? Messages often start with `Note:` or `as soon as …`, and
 * those must not be refused, so a leading word only counts as a role when it is a known role, a
 * unique prefix of one (3+ characters: `research:`), a prefix of several (`rev` when `reviewer` and
 * `revisor` exist: ambiguous), or a near-miss of one (edit distance ≤ 2 for names of 4+ characters:
 * `reseacher:`). The `as <word>:` / `as <word>,` form is explicit by its punctuation, so any word
 * there is taken as a role name. A role name that is not known is never silently replaced by the
 * default: the decision is `unknown_role` or `ambiguous_role`, and {@link helpText} lists the roles.
 */
import { ConfigError } from '../shared/errors.ts';

/** What the router needs to know about a role. */
export interface RoutableRole {
  name: string;
  description: string;
}

/** The roles and the routing rules (config `routing:` and `roles.default`). */
export interface RouterConfig {
  roles: readonly RoutableRole[];
  defaultRole: string;
  /** Slack channel id → role name. */
  channels?: Readonly<Record<string, string>>;
}

/** One message to route. */
export interface RouteInput {
  /** The message text without the bot's mention, trimmed. */
  text: string;
  /** The Slack channel id (a DM's `D…` id for DMs). */
  channel: string;
  /** Set for a follow-up in a thread a run owns: that run's role. */
  threadRole?: string;
}

/** Which rule chose the role. */
export type RouteSource = 'as' | 'prefix' | 'thread' | 'channel' | 'default';

/** The router's answer. */
export type RouteDecision =
  /** Run `task` (the text without the role selector) as `role`. */
  | { kind: 'route'; role: string; task: string; source: RouteSource }
  /** The person named a role that does not exist; `suggestion` is the nearest known one, if any. */
  | { kind: 'unknown_role'; name: string; suggestion: string | null; task: string }
  /** The person's role name fits several roles. */
  | { kind: 'ambiguous_role'; name: string; candidates: string[]; task: string };

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** `as <word>` then `:`/`,` (explicit) or whitespace, then the task. */
const AS_FORM = /^as\s+([A-Za-z][A-Za-z0-9_-]{0,63})(\s*[:,]\s*|\s+|$)([\s\S]*)$/i;
/** `<word>:` then the task. (`https://…` is not a prefix: the colon must not be followed by `//`.) */
const PREFIX_FORM = /^([A-Za-z][A-Za-z0-9_-]{0,63})\s*:(?!\/\/)\s*([\s\S]*)$/;

/** Levenshtein distance, small inputs only (role names are ≤ 64 characters). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

type Lookup =
  | { kind: 'exact'; role: string }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'near'; suggestion: string }
  | { kind: 'none' };

/** See {@link Router.route}. */
export class Router {
  private readonly names: string[];
  private readonly byLower: Map<string, string>;
  private readonly channels: ReadonlyMap<string, string>;

  /**
   * @throws ConfigError when the default role or a channel's role is not a known role, naming the
   *   key (`roles.default`, `routing.channels.<id>`) and the known roles.
   */
  constructor(private readonly config: RouterConfig) {
    this.names = config.roles.map((role) => role.name);
    this.byLower = new Map(this.names.map((name) => [name.toLowerCase(), name]));
    const known = this.names.join(', ');
    if (!this.byLower.has(config.defaultRole.toLowerCase())) {
      throw new ConfigError(`roles.default: unknown role "${config.defaultRole}"; known roles: ${known}`);
    }
    const channels = new Map<string, string>();
    for (const [channel, role] of Object.entries(config.channels ?? {})) {
      const name = this.byLower.get(role.toLowerCase());
      if (name === undefined) throw new ConfigError(`routing.channels.${channel}: unknown role "${role}"; known roles: ${known}`);
      channels.set(channel, name);
    }
    this.channels = channels;
  }

  /** The roles, for help texts. */
  get roles(): readonly RoutableRole[] {
    return this.config.roles;
  }

  /** Decides the role of one message (see the module comment). Never throws. */
  route(input: RouteInput): RouteDecision {
    const text = input.text.trim();
    const as = AS_FORM.exec(text);
    if (as !== null) {
      const [, word = '', separator = '', rest = ''] = as;
      const explicit = /[:,]/.test(separator);
      const decision = this.named(word, rest.trim(), 'as', explicit);
      if (decision !== null) return decision;
    }
    const prefix = PREFIX_FORM.exec(text);
    if (prefix !== null) {
      const [, word = '', rest = ''] = prefix;
      const decision = this.named(word, rest.trim(), 'prefix', false);
      if (decision !== null) return decision;
    }
    if (input.threadRole !== undefined) {
      const role = this.byLower.get(input.threadRole.toLowerCase()) ?? input.threadRole;
      return { kind: 'route', role, task: text, source: 'thread' };
    }
    const channelRole = this.channels.get(input.channel);
    if (channelRole !== undefined) return { kind: 'route', role: channelRole, task: text, source: 'channel' };
    return { kind: 'route', role: this.byLower.get(this.config.defaultRole.toLowerCase()) ?? this.config.defaultRole, task: text, source: 'default' };
  }

  /** A decision when `word` names a role (or clearly tries to), null when it is just text. */
  private named(word: string, task: string, source: 'as' | 'prefix', explicit: boolean): RouteDecision | null {
    const found = this.lookup(word);
    switch (found.kind) {
      case 'exact':
        return { kind: 'route', role: found.role, task, source };
      case 'ambiguous':
        return { kind: 'ambiguous_role', name: word, candidates: found.candidates, task };
      case 'near':
        return { kind: 'unknown_role', name: word, suggestion: found.suggestion, task };
      case 'none':
        return explicit ? { kind: 'unknown_role', name: word, suggestion: null, task } : null;
    }
  }

  private lookup(word: string): Lookup {
    if (!NAME.test(word)) return { kind: 'none' };
    const lower = word.toLowerCase();
    const exact = this.byLower.get(lower);
    if (exact !== undefined) return { kind: 'exact', role: exact };
    if (lower.length >= 3) {
      const prefixed = this.names.filter((name) => name.toLowerCase().startsWith(lower));
      if (prefixed.length === 1) return { kind: 'exact', role: prefixed[0]! };
      if (prefixed.length > 1) return { kind: 'ambiguous', candidates: prefixed };
    }
    if (lower.length >= 4) {
      const near = this.names
        .map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }))
        .filter((candidate) => candidate.distance <= 2)
        .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
      if (near.length > 0) return { kind: 'near', suggestion: near[0]!.name };
    }
    return { kind: 'none' };
  }
}

/**
 * The thread reply for an `unknown_role` or `ambiguous_role` decision: what was not understood, the
 * roles with their descriptions, and how to pick one. Plain text with Slack mrkdwn markers only;
 * the caller escapes it (the role name came from the user).
 */
export function helpText(decision: Exclude<RouteDecision, { kind: 'route' }>, roles: readonly RoutableRole[], defaultRole: string): string {
  const head =
    decision.kind === 'ambiguous_role'
      ? `"${decision.name}" could mean ${decision.candidates.map((name) => `*${name}*`).join(' or ')}; nothing was started.`
      : `I don't know a role called "${decision.name}"${decision.suggestion === null ? '' : ` (did you mean *${decision.suggestion}*?)`}; nothing was started.`;
  const list = roles.map((role) => `• *${role.name}*${role.description === '' ? '' : ` — ${role.description}`}${role.name === defaultRole ? ' (default)' : ''}`);
  const example = decision.kind === 'ambiguous_role' ? decision.candidates[0] : (decision.suggestion ?? roles[0]?.name ?? defaultRole);
  return [head, 'Roles:', ...list, `Start your message with \`${example}: …\` or write \`as ${example} …\` after mentioning me.`].join('\n');
}
