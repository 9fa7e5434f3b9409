/**
 * Traces every `tools/call` an external client makes, whatever becomes of it: a result, an
 * `isError` result (handler failure, timeout, invalid arguments, unknown tool — e.g. an attempt to
 * call an "approve" tool that does not exist) or a JSON-RPC error. It wraps the server's transport,
 * so it sees the call before the SDK validates it and the answer after; the SDK's own validation
 * failures would otherwise never reach our handlers.
 *
 * Each finished call is reported once with the client's token NAME, the tool, the run it named (if
 * a valid `run_id` / `agent_id` was given) and an outcome code. Arguments and results are not
 * reported (they can be large); the runs a write touches carry their own trace events.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { isValidRunId } from '../../shared/ids.ts';

/** One finished tool call. */
export interface McpCallRecord {
  client: string;
  tool: string;
  /** The run the arguments named, or null. */
  runId: string | null;
  /** `ok`, a harness error code (`run_not_found`, `budget_exceeded`, `tool_timeout`, …), `invalid_arguments`, `unknown_tool`, `tool_error` or `rpc_error`. */
  outcome: string;
  /** Milliseconds between the call and its answer. */
  ms: number;
}

const MAX_IN_FLIGHT = 1000;

/** A transport decorator reporting each `tools/call` to `onCall` when its answer is sent. */
export class TracedTransport implements Transport {
  private readonly pending = new Map<string | number, { tool: string; runId: string | null; at: number }>();
  private handler: Transport['onmessage'];

  constructor(
    private readonly inner: Transport,
    private readonly client: string,
    private readonly onCall: (record: McpCallRecord) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('id' in message && message.id !== undefined && ('result' in message || 'error' in message)) this.finish(message.id, 'error' in message ? null : message.result);
    return this.inner.send(message, options);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  get onclose(): Transport['onclose'] {
    return this.inner.onclose;
  }
  set onclose(handler: Transport['onclose']) {
    this.inner.onclose = handler;
  }

  get onerror(): Transport['onerror'] {
    return this.inner.onerror;
  }
  set onerror(handler: Transport['onerror']) {
    this.inner.onerror = handler;
  }

  get onmessage(): Transport['onmessage'] {
    return this.handler;
  }
  set onmessage(handler: Transport['onmessage']) {
    this.handler = handler;
    this.inner.onmessage =
      handler === undefined
        ? undefined
        : <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo): void => {
            this.observe(message);
            handler(message, extra);
          };
  }

  get setProtocolVersion(): Transport['setProtocolVersion'] {
    return this.inner.setProtocolVersion?.bind(this.inner);
  }

  private observe(message: JSONRPCMessage): void {
    if (!('method' in message) || message.method !== 'tools/call' || !('id' in message)) return;
    if (this.pending.size >= MAX_IN_FLIGHT) return;
    const params = (message.params ?? {}) as { name?: unknown; arguments?: unknown };
    const args = params.arguments !== null && typeof params.arguments === 'object' ? (params.arguments as Record<string, unknown>) : {};
    const named = args['run_id'] ?? args['agent_id'];
    this.pending.set(message.id, {
      tool: typeof params.name === 'string' ? params.name.slice(0, 80) : '(none)',
      runId: typeof named === 'string' && isValidRunId(named) ? named : null,
      at: this.now(),
    });
  }

  /** `result` null for a JSON-RPC error answer. */
  private finish(id: string | number, result: unknown): void {
    const call = this.pending.get(id);
    if (call === undefined) return;
    this.pending.delete(id);
    const outcome = result === null ? 'rpc_error' : outcomeOf(result);
    this.onCall({ client: this.client, tool: call.tool, runId: call.runId, outcome, ms: Math.max(0, this.now() - call.at) });
  }
}

/** The outcome code of a `tools/call` result. */
export function outcomeOf(result: unknown): string {
  const r = (result ?? {}) as { isError?: unknown; content?: unknown };
  if (r.isError !== true) return 'ok';
  const first = Array.isArray(r.content) ? (r.content[0] as { text?: unknown } | undefined) : undefined;
  const text = typeof first?.text === 'string' ? first.text : '';
  if (/Input validation error/i.test(text)) return 'invalid_arguments';
  if (/Tool \S+ not found/i.test(text)) return 'unknown_tool';
  const code = /^([a-z][a-z_]{1,40}): /.exec(text);
  return code?.[1] ?? 'tool_error';
}
