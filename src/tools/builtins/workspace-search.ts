/** `workspace_search`: keyword search over the workspace's text files (read-only). */
import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import type { ToolDefinition } from '../types.ts';
import type { WorkspaceFs } from '../workspace-fs.ts';

const Input = z.strictObject({
  query: z.string().min(1).max(500).describe('Keywords to look for, e.g. "durable execution incident".'),
  maxResults: z.int().min(1).max(20).optional().describe('How many files to return (1-20, default 5).'),
});

/**
 * Builds `workspace_search` (category read_only, risk read, idempotent). Content: JSON
 * `{query, matches: [{path, score, excerpt}]}`, best match first.
 */
export function createWorkspaceSearchTool(deps: { workspace: WorkspaceFs }): ToolDefinition {
  return defineTool({
    name: 'workspace_search',
    description:
      'Search the workspace text files for keywords. Returns the best matching files with a score (number of query words found) and an excerpt.',
    inputSchema: Input,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    handler: async (args) => {
      const matches = await deps.workspace.search(args.query, { maxResults: args.maxResults ?? 5 });
      const body = { query: args.query, matches };
      return { content: JSON.stringify(body), data: body };
    },
  });
}
