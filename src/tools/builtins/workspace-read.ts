/** `workspace_read`: one text file from the workspace (read-only), truncated to a cap. */
import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import type { ToolDefinition } from '../types.ts';
import type { WorkspaceFs } from '../workspace-fs.ts';

/** Default cap on the bytes of a file returned to the model. */
export const DEFAULT_READ_MAX_BYTES = 32 * 1024;

const Input = z.strictObject({
  path: z.string().min(1).describe('Workspace-relative file path, e.g. "notes/incident-2026-11-03.md".'),
});

/**
 * Builds `workspace_read` (category read_only, risk read, idempotent). Content: JSON
 * `{path, content}`, plus `truncated: true` and a `note` when the file was longer than the cap.
 */
export function createWorkspaceReadTool(deps: { workspace: WorkspaceFs; maxBytes?: number }): ToolDefinition {
  const maxBytes = deps.maxBytes ?? DEFAULT_READ_MAX_BYTES;
  return defineTool({
    name: 'workspace_read',
    description: 'Read a text file from the workspace. Long files are truncated.',
    inputSchema: Input,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    handler: async (args) => {
      const file = await deps.workspace.read(args.path, maxBytes);
      const body = file.truncated
        ? {
            path: file.path,
            content: file.content,
            truncated: true,
            note: `showing the first ${maxBytes} of ${file.bytes} bytes`,
          }
        : { path: file.path, content: file.content };
      return { content: JSON.stringify(body), data: { path: file.path, bytes: file.bytes, truncated: file.truncated } };
    },
  });
}
