/**
 * Small HTTP helpers shared by the local workspace's routes: bounded body reading, Slack-style
 * body parsing (form or JSON) and JSON answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { SlackApiError } from '../shared/errors.ts';

/** Bodies larger than this are refused (Bolt's own receiver limit is 4 MB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Thrown by {@link readBody} when the body is larger than the limit. */
export class BodyTooLargeError extends SlackApiError {
  constructor() {
    super('request body too large');
  }
}

/** Reads the whole body as UTF-8. @throws BodyTooLargeError past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Parses a Web API body: JSON when the content type says so, otherwise form-encoded (repeated
 * keys keep the last value). Returns `undefined` when JSON is malformed or not an object.
 */
export function parseApiBody(contentType: string | undefined, raw: string): Record<string, unknown> | undefined {
  if (raw.trim() === '') return {};
  if ((contentType ?? '').toLowerCase().startsWith('application/json')) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parseQuery(raw))) {
    // defineProperty keeps a `__proto__` field as plain data.
    Object.defineProperty(out, key, { value: Array.isArray(value) ? value.at(-1) : value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Writes a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
