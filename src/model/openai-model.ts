/**
 * The `openai` provider (DESIGN.md §7): Chat Completions with `tools` through the official `openai`
 * package, so any OpenAI-compatible server works. The SDK never retries (`maxRetries: 0`): retries
 * belong to the runner, which reads `retryable` / `retryAfterMs` on the {@link ModelUnavailableError}
 * raised here. Tool-call arguments are passed through raw; validating them is the runner's job.
 */
import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { type BotError, ModelBehaviorError, ModelUnavailableError } from '../shared/errors.ts';
import { type Redactor, createRedactor } from '../shared/redact.ts';
import type { ModelMessage, ModelPort, ModelRequest, ModelResponse, ModelToolCall, ModelToolSpec } from './port.ts';

/** Settings of {@link OpenAiModel}. */
export interface OpenAiModelOptions {
  /** Required by the SDK even when the server ignores it. Never appears in an error message. */
  apiKey: string;
  /** E.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** The model id sent to the server. */
  model: string;
  /** Per-request timeout; a timeout is a retryable {@link ModelUnavailableError}. */
  timeoutMs: number;
  /** Wall clock for `retry-after` HTTP dates; defaults to `Date.now`. */
  now?: () => number;
}

/** Status codes for which another attempt can help. */
const RETRYABLE_STATUSES = new Set([408, 409, 429]);

/** Maps our messages to Chat Completions messages. */
export function toOpenAiMessages(messages: readonly ModelMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return { role: 'user', content: message.content };
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
      case 'assistant':
        // An empty `tool_calls` array is rejected by OpenAI ("[] is too short"), so it is omitted.
        return message.toolCalls.length === 0
          ? { role: 'assistant', content: message.content ?? '' }
          : {
              role: 'assistant',
              content: message.content,
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                // Servers reject a missing arguments string; the call already failed validation.
                function: { name: call.name, arguments: call.argumentsJson ?? '{}' },
              })),
            };
    }
  });
}

/** Maps our tool specs to Chat Completions function tools. */
export function toOpenAiTools(tools: readonly ModelToolSpec[]): ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}

/** Milliseconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if present and sane. */
export function retryAfterMsFrom(headers: Headers | undefined, now: () => number = Date.now): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number.parseFloat(ms)) && Number.parseFloat(ms) >= 0) return Math.ceil(Number.parseFloat(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

function clip(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Classifies anything the SDK threw as a {@link ModelUnavailableError}: retryable for 408/409/429/5xx,
 * connection errors and timeouts; not retryable for other statuses and for a caller's abort. The
 * message names the provider's status and text with `apiKey` (and key-shaped strings) redacted; the
 * SDK error is not attached as `cause`, because it carries the response body verbatim.
 */
export function toModelUnavailable(error: unknown, context: { model: string; redact: Redactor; now?: () => number }): BotError {
  const prefix = `model ${context.model}`;
  if (error instanceof OpenAI.APIUserAbortError) {
    return new ModelUnavailableError(`${prefix}: request aborted`, { retryable: false });
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new ModelUnavailableError(`${prefix}: request timed out`, { retryable: true, details: { reason: 'timeout' } });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const code = errorCode(error);
    return new ModelUnavailableError(context.redact(clip(`${prefix}: cannot connect to the provider${code ? ` (${code})` : ''}`)), {
      retryable: true,
      details: { reason: 'connection' },
    });
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status;
    const retryable = status !== undefined && (RETRYABLE_STATUSES.has(status) || status >= 500);
    const retryAfterMs = retryable ? retryAfterMsFrom(error.headers, context.now) : undefined;
    const details: Record<string, unknown> = { status: status ?? null };
    if (error.type) details['type'] = context.redact(clip(error.type, 80));
    return new ModelUnavailableError(context.redact(clip(`${prefix}: provider answered ${error.message}`)), {
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      details,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelUnavailableError(context.redact(clip(`${prefix}: ${message}`)), { retryable: false });
}

/** The first system error code (`ECONNREFUSED`, ...) along an error's cause chain. */
function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}

function turnIndex(messages: readonly ModelMessage[]): number {
  return messages.filter((message) => message.role === 'assistant').length;
}

/** A {@link ModelPort} speaking Chat Completions to an OpenAI-compatible server. */
export class OpenAiModel implements ModelPort {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly redact: Redactor;
  private readonly now: () => number;

  /** Builds the client; no request is made until {@link OpenAiModel.complete}. */
  constructor(options: OpenAiModelOptions) {
    this.model = options.model;
    this.name = `openai:${options.model}`;
    this.redact = createRedactor([options.apiKey]);
    this.now = options.now ?? Date.now;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: options.timeoutMs,
      // Explicit nulls keep the SDK from picking these up from the environment.
      organization: null,
      project: null,
      webhookSecret: null,
      logLevel: 'off',
    });
  }

  /** The underlying client, for `doctor` (models list). */
  get sdk(): OpenAI {
    return this.client;
  }

  /** Classifies an error thrown by this model's client (see {@link toModelUnavailable}). */
  classify(error: unknown): BotError {
    return toModelUnavailable(error, { model: this.model, redact: this.redact, now: this.now });
  }

  /**
   * One Chat Completions call.
   * @throws ModelUnavailableError (retryable per {@link toModelUnavailable}); ModelBehaviorError when
   *   the server answers without a choice.
   */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: toOpenAiMessages(request.messages),
    };
    // OpenAI rejects an empty `tools` array.
    if (request.tools.length > 0) body.tools = toOpenAiTools(request.tools);

    let completion: ChatCompletion;
    try {
      completion = await this.client.chat.completions.create(body, request.signal ? { signal: request.signal } : {});
    } catch (error) {
      throw this.classify(error);
    }

    const choice = completion.choices[0];
    if (!choice) throw new ModelBehaviorError(`model ${this.model}: the provider answered without a choice`, { retryable: false });
    const turn = turnIndex(request.messages);
    const toolCalls: ModelToolCall[] = [];
    for (const [i, call] of (choice.message.tool_calls ?? []).entries()) {
      // Some compatible servers omit ids; a deterministic one keeps the transcript pairable.
      const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : `call_${turn}_${i}`;
      if (call.type === 'function') {
        const args = call.function.arguments as string | null | undefined;
        toolCalls.push({ id, name: call.function.name, argumentsJson: typeof args === 'string' ? args : null });
      } else {
        // A custom (free-text) tool call: keep its input raw so the runner can reject it visibly.
        toolCalls.push({ id, name: call.custom.name, argumentsJson: call.custom.input });
      }
    }
    return {
      content: choice.message.content ?? null,
      toolCalls,
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
    };
  }
}
