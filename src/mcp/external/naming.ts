/**
 * Names of external MCP tools as the harness shows them: `server__tool`, always matching the
 * registry's `[A-Za-z0-9_-]{1,64}`. The server's own name for the tool is kept beside it for the
 * call; the two are never confused.
 */
import { createHash } from 'node:crypto';
import { SERVER_NAME } from './config.ts';

/** The separator between the server's name and the tool's. */
export const NAMESPACE_SEPARATOR = '__';
/** The registry's limit on a tool name. */
export const MAX_TOOL_NAME = 64;
const HASH_CHARS = 8;

/**
 * `server__tool` with every character outside `[A-Za-z0-9_-]` replaced by `_`. When that is longer
 * than 64 characters, or `force` is set (the sanitised name collides with another tool's), the tool
 * part is cut and `_` + the first 8 hex digits of sha256(original tool name) are appended, so the
 * result is deterministic and distinct for distinct originals.
 */
export function namespacedToolName(server: string, tool: string, force = false): string {
  const prefix = `${server}${NAMESPACE_SEPARATOR}`;
  const sanitised = tool.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
  const plain = `${prefix}${sanitised}`;
  if (!force && plain.length <= MAX_TOOL_NAME) return plain;
  const hash = createHash('sha256').update(tool, 'utf8').digest('hex').slice(0, HASH_CHARS);
  const room = Math.max(1, MAX_TOOL_NAME - prefix.length - HASH_CHARS - 1);
  return `${prefix}${sanitised.slice(0, room)}_${hash}`;
}

/**
 * Names for every tool of one server, in listing order: sanitised, and made unique (a later tool
 * whose sanitised name is already taken gets the hashed form). Returns original → namespaced.
 */
export function namespaceTools(server: string, tools: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const tool of tools) {
    if (names.has(tool)) continue;
    let name = namespacedToolName(server, tool);
    if (taken.has(name)) name = namespacedToolName(server, tool, true);
    names.set(tool, name);
    taken.add(name);
  }
  return names;
}

/**
 * The server part of a name in the `server__tool` form (`notes__x` → `notes`), else undefined.
 * With `servers`, only those servers count.
 */
export function serverOfToolName(name: string, servers?: readonly string[]): string | undefined {
  const at = name.indexOf(NAMESPACE_SEPARATOR);
  if (at <= 0 || at + NAMESPACE_SEPARATOR.length >= name.length || name.length > MAX_TOOL_NAME) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return undefined;
  const server = name.slice(0, at);
  if (!SERVER_NAME.test(server)) return undefined;
  return servers === undefined || servers.includes(server) ? server : undefined;
}
