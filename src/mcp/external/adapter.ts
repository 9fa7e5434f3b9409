/**
 * Turns the tools an external MCP server lists into `ToolDefinition`s, so they take exactly the
 * path of every other tool: validated against a strict schema, judged by policy (category and
 * risk from {@link classifyExternalTool}), gated when policy says so, traced, and only then sent
 * to the server. `source` is `mcp:<server>`.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { ToolError } from '../../shared/errors.ts';
import type { ToolDefinition, ToolResult } from '../../tools/types.ts';
import { type ExternalToolClass, classifyExternalTool } from './classify.ts';
import type { ExternalMcpServerConfig } from './config.ts';
import type { ExternalServerConnection } from './connection.ts';
import { UnusableSchemaError, inputSchemaFromJson } from './input-schema.ts';
import { namespaceTools } from './naming.ts';

/** The runner's own tool timeout sits this far beyond the server's, so the server's fires first. */
const RUNNER_TIMEOUT_SLACK_MS = 5000;
/** Longest tool text handed to the model. */
export const MAX_RESULT_CHARS = 20_000;
const MAX_DESCRIPTION_CHARS = 1024;

/** One external tool as the harness knows it. */
export interface ExternalTool extends ExternalToolClass {
  /** `server__tool`, the name the model, policy, traces and role files use. */
  name: string;
  server: string;
  /** The server's own name for it. */
  original: string;
  definition: ToolDefinition;
}

/** A listed tool the harness does not offer, and why. */
export interface SkippedTool {
  server: string;
  original: string;
  reason: string;
  /** True when the operator's allow/deny lists left it out (a choice, not a problem). */
  filtered: boolean;
}

/** `mcp:<server>`: the `source` of an external tool. */
export function externalSource(server: string): string {
  return `mcp:${server}`;
}

/**
 * Adapts a server's listing: applies `tools.allow` / `tools.deny` (by the server's names),
 * namespaces and sanitises the names, classifies, and builds strict input schemas. Tools with an
 * unusable schema are skipped, never offered with a weaker one.
 */
export function adaptExternalTools(connection: ExternalServerConnection, listed: readonly Tool[]): { tools: ExternalTool[]; skipped: SkippedTool[] } {
  const config = connection.server;
  const skipped: SkippedTool[] = [];
  const offered = listed.filter((tool) => {
    const reason = filterReason(config, tool.name);
    if (reason !== null) skipped.push({ server: config.name, original: tool.name, reason, filtered: true });
    return reason === null;
  });
  const names = namespaceTools(config.name, offered.map((t) => t.name));
  const tools: ExternalTool[] = [];
  for (const tool of offered) {
    const name = names.get(tool.name);
    if (name === undefined) continue;
    try {
      tools.push(adaptOne(connection, tool, name));
    } catch (error) {
      if (!(error instanceof UnusableSchemaError)) throw error;
      skipped.push({ server: config.name, original: tool.name, reason: error.message, filtered: false });
    }
  }
  return { tools, skipped };
}

function filterReason(config: ExternalMcpServerConfig, tool: string): string | null {
  if (config.tools.deny.includes(tool)) return 'denied by tools.deny';
  if (config.tools.allow !== undefined && !config.tools.allow.includes(tool)) return 'not in tools.allow';
  return null;
}

function adaptOne(connection: ExternalServerConnection, tool: Tool, name: string): ExternalTool {
  const config = connection.server;
  const configured = Object.hasOwn(config.tools.categories, tool.name) ? config.tools.categories[tool.name] : undefined;
  const klass = classifyExternalTool(tool.annotations, configured);
  const inputSchema = inputSchemaFromJson(tool.inputSchema as Record<string, unknown>);
  const description = (tool.description ?? tool.annotations?.title ?? tool.title ?? tool.name).slice(0, MAX_DESCRIPTION_CHARS);
  const original = tool.name;
  const definition: ToolDefinition = {
    name,
    description: `[${config.name}] ${description}`,
    inputSchema,
    category: klass.category,
    risk: klass.risk,
    idempotent: klass.idempotent,
    timeoutMs: config.timeoutMs + RUNNER_TIMEOUT_SLACK_MS,
    source: externalSource(config.name),
    handler: async (args, ctx): Promise<ToolResult> => {
      const result = await connection.callTool(original, args as Record<string, unknown>, ctx.signal);
      const text = clip(textOf(result.content));
      if (result.isError === true) {
        throw new ToolError(`MCP server "${config.name}" tool ${original} failed: ${text.length > 0 ? text : '(no message)'}`, { retryable: false, details: { mcpServer: config.name } });
      }
      const structured = result.structuredContent;
      const data = structured ?? parseJson(text);
      return { content: text.length > 0 ? text : '(no text content)', ...(data === undefined ? {} : { data }) };
    },
  };
  return { ...klass, name, server: config.name, original, definition };
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => {
      if (typeof part !== 'object' || part === null) return '';
      const { type, text } = part as { type?: unknown; text?: unknown };
      if (type === 'text' && typeof text === 'string') return text;
      return typeof type === 'string' ? `[${type} content omitted]` : '';
    })
    .filter((t) => t.length > 0)
    .join('\n');
}

function clip(text: string): string {
  return text.length > MAX_RESULT_CHARS ? `${text.slice(0, MAX_RESULT_CHARS)}… [truncated ${text.length - MAX_RESULT_CHARS} characters]` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
