/**
 * `http_fetch`: one HTTP(S) GET. An open-ended capability (OWASP LLM06), so it is boxed in: policy
 * allows only `network.allowHosts` and gates every call (risk `external`); redirects are not
 * followed (a redirect could leave the allowed hosts; the model gets the target and may ask for
 * it, which policy then judges); the body is cut at a byte cap; a timeout and the run's abort
 * signal bound the wall time.
 */
import { z } from 'zod';
import { BotError, ErrorCode, ToolError } from '../../shared/errors.ts';
import { defineTool } from '../define-tool.ts';
import type { ToolDefinition } from '../types.ts';

/** Default body size returned to the model, in bytes. */
export const FETCH_DEFAULT_MAX_BYTES = 64 * 1024;
/** Largest body size a call may ask for, in bytes. */
export const FETCH_HARD_MAX_BYTES = 1024 * 1024;
/** Default time limit for the whole request, body included. */
export const FETCH_DEFAULT_TIMEOUT_MS = 15_000;

const USER_AGENT = 'slack-harness/0.1 (+http_fetch)';

const Input = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).describe('An http(s) URL on an allowed host.'),
  maxBytes: z.int().min(1).max(FETCH_HARD_MAX_BYTES).optional().describe('Cap on the returned body, in bytes.'),
});

/** Options for {@link createHttpFetchTool}. */
export interface HttpFetchOptions {
  timeoutMs?: number;
  /** Default body cap when the call gives none. */
  maxBytes?: number;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/**
 * Builds `http_fetch` (category network, risk external, idempotent: it only GETs). Content: JSON
 * `{url, status, contentType, body, truncated}`. Throws `ToolError`: non-2xx (retryable for 429 and
 * 5xx, with `retryAfterMs` from `Retry-After`), redirects (not retryable), network errors
 * (retryable), timeouts (code `tool_timeout`, retryable); an abort of the run rethrows its reason.
 */
export function createHttpFetchTool(options: HttpFetchOptions = {}): ToolDefinition {
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULT_TIMEOUT_MS;
  const defaultMax = Math.min(options.maxBytes ?? FETCH_DEFAULT_MAX_BYTES, FETCH_HARD_MAX_BYTES);
  const doFetch = options.fetch ?? fetch;
  return defineTool({
    name: 'http_fetch',
    description: 'Fetch a web page or API response with HTTP GET (allowed hosts only; every fetch needs approval).',
    inputSchema: Input,
    category: 'network',
    risk: 'external',
    idempotent: true,
    source: 'builtin',
    timeoutMs: timeoutMs + 1000,
    targets: (args) => ({ urls: [args.url] }),
    handler: async (args, ctx) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      const cap = args.maxBytes ?? defaultMax;
      const fail = (error: unknown): never => {
        if (ctx.signal.aborted) {
          throw ctx.signal.reason instanceof BotError
            ? ctx.signal.reason
            : new ToolError(`GET ${args.url} was cancelled`, { cause: error });
        }
        if (timeout.aborted) {
          throw new ToolError(`GET ${args.url} timed out after ${timeoutMs} ms`, { code: ErrorCode.ToolTimeout, retryable: true });
        }
        if (error instanceof ToolError) throw error;
        throw new ToolError(`GET ${args.url} failed: ${networkReason(error)}`, { cause: error, retryable: true });
      };

      let response: Response;
      try {
        response = await doFetch(args.url, {
          method: 'GET',
          redirect: 'manual',
          signal,
          headers: { 'user-agent': USER_AGENT, accept: 'text/*, application/json, application/xml;q=0.9, */*;q=0.1' },
        });
      } catch (error) {
        return fail(error);
      }
      const { status } = response;
      if (status >= 300 && status < 400) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        throw new ToolError(
          `GET ${args.url} redirected (HTTP ${status})${location ? ` to ${JSON.stringify(location.slice(0, 300))}` : ''}; redirects are not followed`,
        );
      }
      if (status < 200 || status >= 300) {
        await response.body?.cancel().catch(() => undefined);
        const retryable = status === 429 || status >= 500;
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        throw new ToolError(`GET ${args.url} returned HTTP ${status}`, {
          retryable,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          details: { status },
        });
      }
      const contentType = response.headers.get('content-type') ?? '';
      let body = '';
      let truncated = false;
      let note: string | undefined;
      if (isTextual(contentType)) {
        try {
          ({ body, truncated } = await readCapped(response, cap));
        } catch (error) {
          return fail(error);
        }
      } else {
        await response.body?.cancel().catch(() => undefined);
        note = `non-text content (${contentType.slice(0, 100)}) is not returned`;
      }
      const result = { url: args.url, status, contentType, body, truncated, ...(note === undefined ? {} : { note }) };
      return { content: JSON.stringify(result), data: { url: args.url, status, contentType, truncated, bytes: Buffer.byteLength(body) } };
    },
  });
}

/** Reads at most `cap` bytes of the body and cancels the rest. */
async function readCapped(response: Response, cap: number): Promise<{ body: string; truncated: boolean }> {
  if (!response.body) return { body: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = cap - size;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      size += room;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  let body = Buffer.concat(chunks, size).toString('utf8');
  // A multi-byte character cut at the cap decodes as U+FFFD: drop it rather than show garbage.
  if (truncated) body = body.replace(/\uFFFD+$/, '');
  return { body, truncated };
}

function isTextual(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    type === '' ||
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  return undefined;
}

function networkReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}
