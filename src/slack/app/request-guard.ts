/**
 * A check in front of Bolt's HTTPReceiver (P6). Bolt verifies the HMAC signature and refuses
 * timestamps more than 5 minutes in the *past*, but accepts any timestamp in the future
 * (`@slack/bolt` 5.1 `verify-request.js`, "Rule 1: Check staleness"), so a correctly signed request
 * stamped ahead of time could be replayed until that time has come and gone. This guard answers
 * 401, before Bolt reads the body, to a request to the events path that lacks either signature
 * header or whose timestamp is not an integer within ±300 s of now. Everything else goes to Bolt
 * unchanged (which then checks the signature over the raw body).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** Slack's replay window (seconds), both directions. */
export const MAX_CLOCK_SKEW_SEC = 300;

/** Why a request was refused, or null when it may go on to Bolt's own verification. */
export function checkRequestHeaders(headers: IncomingMessage['headers'], nowMs: number): string | null {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || signature === '') return 'missing x-slack-signature';
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return 'missing or malformed x-slack-request-timestamp';
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
  if (skew > MAX_CLOCK_SKEW_SEC) return `x-slack-request-timestamp is ${String(skew)} s away from now`;
  return null;
}

/**
 * Wraps Bolt's request listener: POSTs to one of `paths` must pass {@link checkRequestHeaders};
 * refusals get `401` with no body and are reported to `onRefused` (for a log line; never the
 * headers' values).
 */
export function guardRequests(
  inner: RequestListener,
  paths: readonly string[],
  now: () => number,
  onRefused: (reason: string, path: string) => void,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && paths.includes(path)) {
      const refusal = checkRequestHeaders(req.headers, now());
      if (refusal !== null) {
        onRefused(refusal, path);
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end();
        req.resume();
        return;
      }
    }
    inner(req, res);
  };
}
