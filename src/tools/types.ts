/**
 * Tool contracts (DESIGN.md §1 `src/tools/`). A tool is data (name, zod input schema, category,
 * risk, idempotency) plus a handler. The registry derives JSON Schema from zod for the model and for
 * MCP; the runner validates every call against the zod schema before policy sees it.
 */
import type { z } from 'zod';
import type { ActionCategory, Risk } from '../shared/vocabulary.ts';

/** What a handler may use. Everything with I/O comes through here, never from globals. */
export interface ToolContext {
  runId: string;
  stepId: string;
  /** `${runId}:${stepId}`; the same on every retry and after a crash-restart. */
  idempotencyKey: string;
  role: string;
  /** Aborted on timeout, cancellation or shutdown. */
  signal: AbortSignal;
}

/** What a handler returns: text for the model, optional structured data, produced files. */
export interface ToolResult {
  content: string;
  data?: unknown;
  files?: { path: string; bytes: number; sha256: string }[];
}

/** The subset of the policy a tool's preflight may need (write roots, allowed hosts). */
export interface PreflightContext {
  role: string;
}

export interface ToolDefinition<Schema extends z.ZodType = z.ZodType> {
  /** `[A-Za-z0-9_-]{1,64}`, unique in the registry. */
  name: string;
  description: string;
  inputSchema: Schema;
  category: ActionCategory;
  risk: Risk;
  /** True when running twice with the same idempotency key has the effect of running once. */
  idempotent: boolean;
  /** Overrides the default tool timeout. */
  timeoutMs?: number;
  /** Where the tool comes from: `builtin`, `harness-mcp`, or `mcp:<server>`. */
  source: string;
  /**
   * Optional I/O check run before policy and before any gate (e.g. symlink escapes): a returned
   * string is a denial reason recorded in the trace and shown to the model.
   */
  preflight?: (args: z.infer<Schema>, ctx: PreflightContext) => Promise<string | null>;
  /**
   * What the call touches, for policy: workspace-relative paths it writes and URLs it fetches.
   * Policy checks these lexically (roots, hosts); the preflight checks the filesystem.
   */
  targets?: (args: z.infer<Schema>) => { writePaths?: string[]; urls?: string[] };
  /** Runs the tool. Throw `ToolError` (with `retryable`) for failures the model should see. */
  handler: (args: z.infer<Schema>, ctx: ToolContext) => Promise<ToolResult>;
}

/** A registered tool with its input JSON Schema precomputed. */
export interface RegisteredTool extends ToolDefinition {
  jsonSchema: Record<string, unknown>;
}
