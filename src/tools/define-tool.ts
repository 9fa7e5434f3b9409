/**
 * Typed tool definitions. A definition is written against its own zod schema (so the handler sees
 * `{ path: string }`, not `unknown`) and then widened to the registry's `ToolDefinition`.
 */
import type { z } from 'zod';
import type { ToolDefinition } from './types.ts';

/**
 * Widens a schema-typed definition to `ToolDefinition`. Sound only because the registry validates
 * every call's arguments against `inputSchema` before `preflight`, `targets` or `handler` see them
 * (`ToolRegistry.validateArgs`); never call a definition's functions with unvalidated input.
 */
export function defineTool<Schema extends z.ZodType>(definition: ToolDefinition<Schema>): ToolDefinition {
  return definition as unknown as ToolDefinition;
}
