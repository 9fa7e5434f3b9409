/**
 * The deterministic offline model (DESIGN.md §7). It is stateless: every `complete()` derives where
 * it is from the messages it is given, so a run resumed after a crash or a restart continues with
 * exactly the answer it would have had. It fails loudly ({@link UnexpectedModelCallError}) when
 * asked for a turn its script does not have.
 */
import { ModelBehaviorError } from '../shared/errors.ts';
import type { ModelMessage, ModelPort, ModelRequest, ModelResponse, ModelToolCall, ModelToolSpec } from './port.ts';
import { type Scenario, type ScenarioFile, TEMPLATE_PATTERN, loadScenarioFile, parseScenarioFile } from './scenario-schema.ts';
import {
  type SourceDocument,
  buildReport,
  buildSummary,
  extractKeywords,
  firstUrl,
  slugify,
} from './scripted-text.ts';

/** Prefix the runner puts on every tool result that is an error (see orchestrator `TOOL_ERROR_PREFIX`). */
export const SCRIPTED_ERROR_PREFIX = 'ERROR: ';

/** The script asked for a turn it does not have (past its end, or no scenario matched). Not retryable. */
export class UnexpectedModelCallError extends ModelBehaviorError {}

/** One tool call of a {@link ScriptedStep}. */
export interface ScriptedCall {
  name: string;
  /** Defaults to `call_<turnIndex>_<i>`. */
  id?: string;
  /** Sent as `JSON.stringify(args)`; defaults to `{}`. */
  args?: Record<string, unknown>;
  /** Sent verbatim instead of `args` (invalid JSON, or `null` for "no arguments at all"). */
  rawArguments?: string | null;
}

/** One scripted answer: text, tool calls, or both. */
export interface ScriptedStep {
  content?: string | null;
  calls?: ScriptedCall[];
}

/** A step, or a function computing it from the messages the model was given. */
export type ScriptedStepSource = ScriptedStep | ((messages: ModelMessage[]) => ScriptedStep);

/** What a scripted model saw in one `complete()` call (a deep copy; the signal is not kept). */
export interface RecordedModelRequest {
  messages: ModelMessage[];
  tools: ModelToolSpec[];
}

/** Rough token count used for budgets: one token per four characters. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

function messageChars(message: ModelMessage): number {
  if (message.role !== 'assistant') return message.content.length;
  return (
    (message.content?.length ?? 0) +
    message.toolCalls.reduce((sum, call) => sum + call.name.length + (call.argumentsJson?.length ?? 0), 0)
  );
}

/** Number of assistant messages in the whole conversation: the index of the turn being answered. */
function turnIndex(messages: readonly ModelMessage[]): number {
  return messages.filter((message) => message.role === 'assistant').length;
}

function latestUserIndex(messages: readonly ModelMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i -= 1) if (messages[i]?.role === 'user') return i;
  return -1;
}

/** Turns a step into a response, with deterministic call ids. */
function toResponse(step: ScriptedStep, messages: readonly ModelMessage[]): ModelResponse {
  const turn = turnIndex(messages);
  const toolCalls: ModelToolCall[] = (step.calls ?? []).map((call, i) => ({
    id: call.id ?? `call_${turn}_${i}`,
    name: call.name,
    argumentsJson: call.rawArguments !== undefined ? call.rawArguments : JSON.stringify(call.args ?? {}),
  }));
  const content = step.content ?? null;
  const inputChars = messages.reduce((sum, message) => sum + messageChars(message), 0);
  const outputChars = messageChars({ role: 'assistant', content, toolCalls });
  return { content, toolCalls, usage: { inputTokens: estimateTokens(inputChars), outputTokens: estimateTokens(outputChars) } };
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine;
}

/** The facts a template may draw on, computed lazily from one conversation. */
class TemplateContext {
  private readonly messages: readonly ModelMessage[];
  readonly task: string;
  private keywordList: string[] | undefined;
  private sourceList: SourceDocument[] | undefined;

  constructor(messages: readonly ModelMessage[]) {
    this.messages = messages;
    const userIndex = latestUserIndex(messages);
    const latest = userIndex >= 0 ? messages[userIndex] : undefined;
    this.task = latest?.role === 'user' ? latest.content : '';
  }

  get keywords(): string[] {
    this.keywordList ??= extractKeywords(this.task);
    return this.keywordList;
  }

  private toolMessages(): Extract<ModelMessage, { role: 'tool' }>[] {
    return this.messages.filter((message): message is Extract<ModelMessage, { role: 'tool' }> => message.role === 'tool');
  }

  /** The last tool result of the conversation, raw. */
  get lastContent(): string | undefined {
    return this.toolMessages().at(-1)?.content;
  }

  /** The most recent error result, without its prefix; '' when there is none. */
  get lastError(): string {
    const error = this.toolMessages()
      .reverse()
      .find((message) => message.content.startsWith(SCRIPTED_ERROR_PREFIX));
    return error ? error.content.slice(SCRIPTED_ERROR_PREFIX.length) : '';
  }

  /** Every tool result that is a JSON object with a string `content`, labelled by its `path` or tool name. */
  get sources(): SourceDocument[] {
    if (this.sourceList) return this.sourceList;
    const toolNames = new Map<string, string>();
    for (const message of this.messages) {
      if (message.role === 'assistant') for (const call of message.toolCalls) toolNames.set(call.id, call.name);
    }
    this.sourceList = [];
    for (const message of this.toolMessages()) {
      const parsed = parseJson(message.content);
      if (!isRecord(parsed) || typeof parsed['content'] !== 'string') continue;
      const path = parsed['path'];
      const source = typeof path === 'string' && path.length > 0 ? path : (toolNames.get(message.toolCallId) ?? 'tool result');
      this.sourceList.push({ source, content: parsed['content'] });
    }
    return this.sourceList;
  }

  /** The value of one template name; `undefined` when it does not resolve. */
  resolve(name: string): unknown {
    switch (name) {
      case 'task':
        return this.task;
      case 'keywords':
        return this.keywords.join(' ');
      case 'slug':
        return slugify(this.keywords);
      case 'url':
        return firstUrl(this.task);
      case 'last':
        return this.lastContent;
      case 'last_error':
        return this.lastError;
      case 'report':
        return buildReport(this.sources, this.keywords);
      case 'summary':
        return buildSummary(this.sources, this.keywords);
      default:
        if (name.startsWith('last.')) return walk(parseJson(this.lastContent), name.slice('last.'.length).split('.'));
        return undefined;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.startsWith(SCRIPTED_ERROR_PREFIX)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Follows a dot path through parsed JSON; own properties and array indices only. */
function walk(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isRecord(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const SINGLE_TEMPLATE = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;

/** Renders the templates in a string; unresolved names render as ''. */
function renderString(text: string, ctx: TemplateContext): string {
  return text.replace(TEMPLATE_PATTERN, (_match, name: string) => stringify(ctx.resolve(name)));
}

/**
 * Renders templates recursively in tool arguments. A string that is exactly one template keeps the
 * resolved value's JSON type (so `{{last.count}}` stays a number).
 */
function renderValue(value: unknown, ctx: TemplateContext): unknown {
  if (typeof value === 'string') {
    const single = SINGLE_TEMPLATE.exec(value);
    if (single?.[1] !== undefined) {
      const resolved = ctx.resolve(single[1]);
      return resolved === undefined || resolved === null || typeof resolved === 'string' ? stringify(resolved) : resolved;
    }
    return renderString(value, ctx);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, ctx));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, ctx)]));
  return value;
}

/** True when the latest turn's tool results (after the last assistant message) contain an error. */
function latestTurnFailed(messages: readonly ModelMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role !== 'tool') return false;
    if (message.content.startsWith(SCRIPTED_ERROR_PREFIX)) return true;
  }
  return false;
}

interface CompiledScenario {
  scenario: Scenario;
  pattern: RegExp;
}

function compile(file: ScenarioFile): { scenarios: CompiledScenario[]; fallback: Scenario | undefined } {
  const scenarios = file.scenarios.map((scenario) => ({ scenario, pattern: new RegExp(scenario.match, 'i') }));
  const fallback = file.fallback === undefined ? undefined : file.scenarios.find((s) => s.name === file.fallback);
  return { scenarios, fallback };
}

/** Chooses and renders the scenario step for a conversation. */
function scenarioStep(file: ReturnType<typeof compile>, messages: readonly ModelMessage[]): ScriptedStep {
  const ctx = new TemplateContext(messages);
  const scenario = file.scenarios.find(({ pattern }) => pattern.test(ctx.task))?.scenario ?? file.fallback;
  if (!scenario) {
    throw new UnexpectedModelCallError(`scripted model: no scenario matches the task "${preview(ctx.task)}" and no fallback is set`, {
      retryable: false,
    });
  }
  const userIndex = latestUserIndex(messages);
  const position = messages.slice(userIndex + 1).filter((message) => message.role === 'assistant').length;

  if (position > 0 && scenario.on_error !== undefined && latestTurnFailed(messages)) {
    return { content: renderString(scenario.on_error, ctx) };
  }
  const step = scenario.steps[position];
  if (!step) {
    throw new UnexpectedModelCallError(
      `scripted model: scenario "${scenario.name}" has no step at position ${position} (it has ${scenario.steps.length}) for the task "${preview(ctx.task)}"`,
      { retryable: false, details: { scenario: scenario.name, position } },
    );
  }
  const calls = step.calls?.map((call): ScriptedCall =>
    call.rawArguments !== undefined
      ? { name: call.name, rawArguments: call.rawArguments }
      : { name: call.name, args: renderValue(call.args ?? {}, ctx) as Record<string, unknown> },
  );
  const result: ScriptedStep = {};
  if (step.say !== undefined) result.content = renderString(step.say, ctx);
  if (calls) result.calls = calls;
  return result;
}

/** How many requests a scenario-driven model keeps in {@link ScriptedModel.requests} (it may run for days). */
const SCENARIO_REQUEST_HISTORY = 50;

/**
 * A {@link ModelPort} that answers from a script. Build it with {@link ScriptedModel.fromScenarios}
 * (the offline default) or {@link ScriptedModel.fromSteps} (tests).
 */
export class ScriptedModel implements ModelPort {
  readonly name = 'scripted';
  /** Every request seen (a scenario-driven model keeps only the most recent 50). */
  readonly requests: RecordedModelRequest[] = [];
  private readonly answer: (messages: ModelMessage[]) => ScriptedStep;
  private readonly maxRecorded: number;

  private constructor(answer: (messages: ModelMessage[]) => ScriptedStep, maxRecorded: number) {
    this.answer = answer;
    this.maxRecorded = maxRecorded;
  }

  /**
   * A model driven by YAML scenarios: a file path, or an already parsed document.
   * @throws ConfigError when the file cannot be read or is invalid.
   */
  static fromScenarios(fileOrDocument: string | unknown): ScriptedModel {
    const file = typeof fileOrDocument === 'string' ? loadScenarioFile(fileOrDocument) : parseScenarioFile(fileOrDocument);
    const compiled = compile(file);
    return new ScriptedModel((messages) => scenarioStep(compiled, messages), SCENARIO_REQUEST_HISTORY);
  }

  /**
   * A model answering the Nth call of a conversation (N = assistant messages so far) with `steps[N]`.
   * Calling past the end throws {@link UnexpectedModelCallError}.
   */
  static fromSteps(steps: readonly ScriptedStepSource[]): ScriptedModel {
    const script = [...steps];
    return new ScriptedModel((messages) => {
      const position = turnIndex(messages);
      const step = script[position];
      if (step === undefined) {
        throw new UnexpectedModelCallError(
          `scripted model: unexpected model call at position ${position} (the script has ${script.length} step(s))`,
          { retryable: false, details: { position } },
        );
      }
      return typeof step === 'function' ? step(messages) : step;
    }, Number.POSITIVE_INFINITY);
  }

  /**
   * Answers from the script.
   * @throws UnexpectedModelCallError when the script has no answer; the signal's reason when aborted.
   */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    request.signal?.throwIfAborted();
    const messages = structuredClone(request.messages);
    this.requests.push({ messages, tools: structuredClone(request.tools) });
    if (this.requests.length > this.maxRecorded) this.requests.shift();
    return toResponse(this.answer(structuredClone(messages)), messages);
  }
}
