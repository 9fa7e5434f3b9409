/**
 * `workspace_write`: writes one text file inside the workspace. It is the only built-in with a
 * lasting local side effect, so it declares its target for policy (write roots, checked
 * lexically) and a preflight that does the filesystem checks (symlinks, realpath) before anyone is
 * asked to approve a write that could never succeed.
 */
import { z } from 'zod';
import { BotError, ToolError } from '../../shared/errors.ts';
import { defineTool } from '../define-tool.ts';
import type { ToolDefinition } from '../types.ts';
import type { WorkspaceFs } from '../workspace-fs.ts';

/** Longest content accepted, in characters. */
export const WRITE_MAX_CHARS = 200_000;

const Input = z.strictObject({
  path: z.string().min(1).describe('Workspace-relative file path, e.g. "reports/durable-execution.md". At most 1024 characters.'),
  content: z.string().max(WRITE_MAX_CHARS).describe('The full file content (UTF-8 text).'),
});

/**
 * Builds `workspace_write` (category filesystem_write, risk write). Idempotent: the same path and
 * content give the same file, and rewriting identical content is a no-op. Content: JSON
 * `{path, bytes, sha256, unchanged}`; `files` lists the written file.
 */
export function createWorkspaceWriteTool(deps: { workspace: WorkspaceFs }): ToolDefinition {
  return defineTool({
    name: 'workspace_write',
    description:
      'Create or replace a text file in the workspace (only under the allowed folders, e.g. reports/). Every write needs a human approval.',
    inputSchema: Input,
    category: 'filesystem_write',
    risk: 'write',
    idempotent: true,
    source: 'builtin',
    targets: (args) => ({ writePaths: [args.path] }),
    preflight: (args) => deps.workspace.checkWrite(args.path),
    handler: async (args, ctx) => {
      if (ctx.signal.aborted) {
        throw ctx.signal.reason instanceof BotError ? ctx.signal.reason : new ToolError('the write was cancelled before it started');
      }
      const written = await deps.workspace.write(args.path, args.content, { idempotencyKey: ctx.idempotencyKey });
      return {
        content: JSON.stringify(written),
        data: written,
        files: [{ path: written.path, bytes: written.bytes, sha256: written.sha256 }],
      };
    },
  });
}
