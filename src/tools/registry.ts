/**
 * The tool registry (DESIGN.md §1 `src/tools/`, RELIABILITY.md P12): tools by name, their JSON
 * Schema for the model and MCP, and the one place where a model's raw tool-call arguments are
 * turned into validated input. Anything that fails here becomes a short, model-visible error and
 * never reaches policy or a handler.
 */
import { z } from 'zod';
import type { ModelToolSpec } from '../model/port.ts';
import { InvariantError } from '../shared/errors.ts';
import type { RegisteredTool, ToolDefinition } from './types.ts';

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Upper bound on a validation error, so the model's next prompt stays small. */
const MAX_ERROR_CHARS = 280;

/** The result of {@link ToolRegistry.validateArgs}. `error` is one line, under 300 characters. */
export type ArgsValidation = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

/**
 * Holds the tools a process offers. Names are unique and match `[A-Za-z0-9_-]{1,64}`; every input
 * schema is a `z.strictObject`, checked at registration through its JSON Schema (`type: object`,
 * `additionalProperties: false`), so extra keys are always refused.
 */
export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();
  readonly #specs = new Map<string, ModelToolSpec>();

  /**
   * Adds a tool and precomputes its JSON Schema (zod 4 `toJSONSchema`, input side, without
   * `$schema`). Throws `InvariantError` for a bad or duplicate name, a schema that cannot be
   * expressed as JSON Schema, or a schema that is not a strict object.
   */
  register(definition: ToolDefinition): RegisteredTool {
    const { name } = definition;
    if (!TOOL_NAME.test(name)) throw new InvariantError(`tool name ${JSON.stringify(name.slice(0, 80))} must match ${TOOL_NAME.source}`);
    if (this.#tools.has(name)) throw new InvariantError(`tool ${name} is already registered`);
    let jsonSchema: Record<string, unknown>;
    try {
      jsonSchema = z.toJSONSchema(definition.inputSchema, { io: 'input' }) as Record<string, unknown>;
    } catch (error) {
      throw new InvariantError(`tool ${name}: input schema cannot be expressed as JSON Schema`, { cause: error });
    }
    delete jsonSchema['$schema'];
    if (jsonSchema['type'] !== 'object' || jsonSchema['additionalProperties'] !== false) {
      throw new InvariantError(`tool ${name}: input schema must be a z.strictObject`);
    }
    const registered: RegisteredTool = { ...definition, jsonSchema };
    this.#tools.set(name, registered);
    this.#specs.set(name, { name, description: definition.description, parameters: jsonSchema });
    return registered;
  }

  /** The tool with this exact name, or `undefined` (never a prototype property). */
  get(name: string): RegisteredTool | undefined {
    return this.#tools.get(name);
  }

  /** True when a tool with this name is registered. */
  has(name: string): boolean {
    return this.#tools.has(name);
  }

  /** All tools, in registration order. */
  list(): RegisteredTool[] {
    return [...this.#tools.values()];
  }

  /**
   * The specs offered to the model: every tool for `*`, otherwise the named ones in the given order.
   * Names the registry does not know are skipped (a role file may list a tool whose MCP server is
   * down); policy still denies such a name if the model calls it anyway. Returns fresh copies.
   */
  specsFor(names: readonly string[] | '*'): ModelToolSpec[] {
    const picked = names === '*' ? [...this.#specs.keys()] : [...new Set(names)];
    const specs: ModelToolSpec[] = [];
    for (const name of picked) {
      const spec = this.#specs.get(name);
      if (spec) specs.push(structuredClone(spec));
    }
    return specs;
  }

  /**
   * Turns raw tool-call arguments into validated input. Refuses, each with a one-line error under
   * 300 characters naming the bad keys (never echoing values): an unknown tool; arguments over
   * `maxBytes` (UTF-8); invalid JSON; JSON that is not an object (arrays, `null`, strings); schema
   * failures (wrong types, missing keys); extra keys.
   *
   * Missing arguments (`null`, or an empty / whitespace-only string, which some OpenAI-compatible
   * servers send for parameterless calls) are treated as `{}`: they pass when the schema accepts an
   * empty object (e.g. `workspace_list`) and fail with "arguments are missing" otherwise.
   *
   * Never throws; the returned `args` are the schema's output (defaults applied), a fresh object.
   */
  validateArgs(name: string, argumentsJson: string | null, maxBytes: number): ArgsValidation {
    const tool = this.#tools.get(name);
    if (!tool) return fail(`unknown tool ${JSON.stringify(name.slice(0, 64))}; use one of the offered tools`);
    const missing = argumentsJson === null || argumentsJson.trim() === '';
    let raw: unknown = {};
    if (!missing) {
      const bytes = Buffer.byteLength(argumentsJson, 'utf8');
      if (bytes > maxBytes) return fail(`arguments for ${name} are ${bytes} bytes; the limit is ${maxBytes}`);
      try {
        raw = JSON.parse(argumentsJson);
      } catch {
        return fail(`arguments for ${name} are not valid JSON`);
      }
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        return fail(`arguments for ${name} must be a JSON object, not ${describeJsonType(raw)}`);
      }
    }
    const parsed = tool.inputSchema.safeParse(raw);
    if (!parsed.success) {
      if (missing) return fail(`arguments for ${name} are missing; send a JSON object matching its schema`);
      return fail(`invalid arguments for ${name}: ${summariseIssues(parsed.error.issues, raw)}`);
    }
    const args = parsed.data;
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      return fail(`tool ${name}: its schema produced a non-object`);
    }
    return { ok: true, args: args as Record<string, unknown> };
  }
}

function fail(error: string): ArgsValidation {
  return { ok: false, error: error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS - 1)}…` : error };
}

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** One short clause per issue; keys from the model are clipped, values never shown. */
function summariseIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string {
  const parts = issues.slice(0, 5).map((issue) => {
    const at = issue.path.length === 0 ? '' : `${issue.path.map((p) => clipKey(String(p))).join('.')}: `;
    switch (issue.code) {
      case 'unrecognized_keys':
        return `${at}unexpected key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.slice(0, 5).map((k) => JSON.stringify(clipKey(k))).join(', ')}`;
      case 'invalid_type':
        return valueAt(raw, issue.path) === undefined ? `${at}required` : `${at}expected ${issue.expected}`;
      default:
        return `${at}${issue.message}`;
    }
  });
  if (issues.length > 5) parts.push(`and ${issues.length - 5} more`);
  return parts.join('; ');
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || typeof key === 'symbol' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function clipKey(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key;
}
