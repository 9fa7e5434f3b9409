/**
 * What policy sees of an external MCP tool: its action category, risk and idempotency, derived
 * from the tool's annotations unless the operator configured a category (DESIGN.md §4).
 *
 * | annotations                         | category    | risk           |
 * |-------------------------------------|-------------|----------------|
 * | `readOnlyHint: true`                | read_only   | read           |
 * | `destructiveHint: true` (not r/o)   | unknown     | irreversible   |
 * | neither (or `destructiveHint:false`)| unknown     | write          |
 * | configured category `read_only`     | read_only   | read           |
 * | any other configured category       | that one    | as derived, at least `write` |
 *
 * `unknown` maps to `approve` in the default policy, and every risk above `read` is gated by the
 * risk floor whatever the category says, so a tool without hints can never run without a human.
 * Annotations are the server's claims: trust a server's `readOnlyHint` only as far as you trust
 * the server, or pin the category in `mcp.servers[].tools.categories`.
 */
import type { ActionCategory, Risk } from '../../shared/vocabulary.ts';

/** The MCP tool annotations the harness reads. */
export interface ToolHints {
  readOnlyHint?: boolean | undefined;
  destructiveHint?: boolean | undefined;
  idempotentHint?: boolean | undefined;
}

/** The policy-facing facts of one external tool. */
export interface ExternalToolClass {
  category: ActionCategory;
  risk: Risk;
  idempotent: boolean;
  /** `annotations` or `config`: where the category came from. */
  categorySource: 'annotations' | 'config';
}

/** Classifies one tool. Pure. */
export function classifyExternalTool(hints: ToolHints | undefined, configured?: ActionCategory): ExternalToolClass {
  const readOnly = hints?.readOnlyHint === true;
  const destructive = !readOnly && hints?.destructiveHint === true;
  const derivedRisk: Risk = readOnly ? 'read' : destructive ? 'irreversible' : 'write';
  // A read-only tool has no effect to repeat; otherwise trust idempotentHint only when given.
  const idempotent = readOnly || hints?.idempotentHint === true;
  if (configured !== undefined) {
    const risk: Risk = configured === 'read_only' ? 'read' : derivedRisk === 'read' ? 'write' : derivedRisk;
    return { category: configured, risk, idempotent: configured === 'read_only' ? true : idempotent, categorySource: 'config' };
  }
  return { category: readOnly ? 'read_only' : 'unknown', risk: derivedRisk, idempotent, categorySource: 'annotations' };
}
