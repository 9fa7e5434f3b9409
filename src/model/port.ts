/**
 * The model seam (DESIGN.md §7). The runner speaks only this interface; `openai-model.ts` talks to
 * any OpenAI-compatible server and `scripted-model.ts` is the deterministic offline default.
 */

/** A tool offered to the model. `parameters` is JSON Schema without `$schema`. */
export interface ModelToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One tool call proposed by the model, exactly as sent (arguments may be invalid JSON or absent). */
export interface ModelToolCall {
  id: string;
  name: string;
  argumentsJson: string | null;
}

export type ModelMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls: ModelToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ModelRequest {
  messages: ModelMessage[];
  tools: ModelToolSpec[];
  signal?: AbortSignal;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelResponse {
  content: string | null;
  toolCalls: ModelToolCall[];
  usage: ModelUsage;
}

export interface ModelPort {
  /** Provider and model, e.g. `scripted` or `openai:gpt-4o-mini`; recorded on every run. */
  readonly name: string;
  /**
   * One completion. Throws `ModelUnavailableError` (retryable where a retry can help: 429, 5xx,
   * timeouts, connection errors) or `ModelBehaviorError`.
   */
  complete(request: ModelRequest): Promise<ModelResponse>;
}
