/**
 * Least privilege (RELIABILITY.md P17): the scopes in `manifest.yml` are the bot's whole claim, and
 * at startup the scopes Slack actually granted (`auth.test` → `response_metadata.scopes`, from the
 * `x-oauth-scopes` header) are compared with them. A granted scope the manifest does not list means
 * the installed app can do more than this code needs: the bot refuses to start.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ConfigError, ErrorCode } from '../shared/errors.ts';

/** The manifest shipped at the repository root. */
export const DEFAULT_MANIFEST_PATH = fileURLToPath(new URL('../../manifest.yml', import.meta.url));

/**
 * The scope each Web API method the bot calls needs (any one of the listed; empty: none). The
 * manifest test checks that every method the Slack port and the startup code use is listed here and
 * that its scope is in the manifest.
 */
export const METHOD_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'auth.test': [],
  'apps.connections.open': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.getPermalink': [],
  'reactions.add': ['reactions:write'],
  'reactions.remove': ['reactions:write'],
  'views.open': [],
  'views.update': [],
  'views.publish': [],
  'assistant.threads.setStatus': ['chat:write'],
  'conversations.replies': ['channels:history', 'im:history'],
};

/** The scope each subscribed bot event needs (empty: none). */
export const EVENT_SCOPES: Readonly<Record<string, readonly string[]>> = {
  app_mention: ['app_mentions:read'],
  'message.channels': ['channels:history'],
  'message.im': ['im:history'],
  app_home_opened: [],
};

/** The parts of the manifest the bot checks. */
export interface ManifestFacts {
  botScopes: string[];
  botEvents: string[];
  socketMode: boolean;
  interactivity: boolean;
}

function stringList(value: unknown, where: string, path: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new ConfigError(`${path}: ${where} must be a list of strings`);
  }
  return [...(value as string[])];
}

/**
 * Reads the manifest's bot scopes, bot events and settings.
 * @throws ConfigError when the file is missing, is not YAML, or lacks `oauth_config.scopes.bot`.
 */
export function readManifest(path = DEFAULT_MANIFEST_PATH): ManifestFacts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the app manifest ${path}: ${(error as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    throw new ConfigError(`the app manifest ${path} is not valid YAML`);
  }
  const root = (doc ?? {}) as { oauth_config?: { scopes?: { bot?: unknown } }; settings?: Record<string, unknown> };
  const settings = root.settings ?? {};
  const events = (settings['event_subscriptions'] as { bot_events?: unknown } | undefined)?.bot_events ?? [];
  return {
    botScopes: stringList(root.oauth_config?.scopes?.bot, 'oauth_config.scopes.bot', path),
    botEvents: stringList(events, 'settings.event_subscriptions.bot_events', path),
    socketMode: settings['socket_mode_enabled'] === true,
    interactivity: (settings['interactivity'] as { is_enabled?: unknown } | undefined)?.is_enabled === true,
  };
}

/** The comparison of granted and declared scopes. */
export interface ScopeCheck {
  /** Granted but not in the manifest: refuse to start. */
  excess: string[];
  /** In the manifest but not granted: some calls will fail with `missing_scope`. */
  missing: string[];
}

/** Compares granted scopes with the manifest's (order and duplicates ignored; sorted results). */
export function compareScopes(granted: readonly string[], declared: readonly string[]): ScopeCheck {
  const declaredSet = new Set(declared);
  const grantedSet = new Set(granted.map((s) => s.trim()).filter((s) => s !== ''));
  return {
    excess: [...grantedSet].filter((s) => !declaredSet.has(s)).sort(),
    missing: [...declaredSet].filter((s) => !grantedSet.has(s)).sort(),
  };
}

/**
 * Throws when Slack granted scopes beyond the manifest.
 * @throws ConfigError with code `excess_scopes` and the message `excess scopes: <list>`.
 */
export function assertNoExcessScopes(granted: readonly string[], declared: readonly string[]): ScopeCheck {
  const check = compareScopes(granted, declared);
  if (check.excess.length > 0) {
    throw new ConfigError(`excess scopes: ${check.excess.join(', ')}`, {
      code: ErrorCode.ExcessScopes,
      details: { excess: check.excess },
    });
  }
  return check;
}
