/** `workspace_list`: the entries of one workspace folder (read-only). */
import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import type { ToolDefinition } from '../types.ts';
import type { WorkspaceFs } from '../workspace-fs.ts';

const Input = z.strictObject({
  path: z
    .string()
    .min(1)
    .optional()
    .describe('Workspace-relative folder to list, e.g. "notes". Omit for the workspace root.'),
});

/** Builds `workspace_list` (category read_only, risk read, idempotent). Content: JSON `{path, entries, truncated}`. */
export function createWorkspaceListTool(deps: { workspace: WorkspaceFs }): ToolDefinition {
  return defineTool({
    name: 'workspace_list',
    description: 'List the files and folders in a workspace folder (default: the workspace root).',
    inputSchema: Input,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    handler: async (args) => {
      const listing = await deps.workspace.list(args.path ?? '.');
      return { content: JSON.stringify(listing), data: listing };
    },
  });
}
