/** The built-in tools, registered together. */
import type { ToolRegistry } from '../registry.ts';
import { WorkspaceFs } from '../workspace-fs.ts';
import { type HttpFetchOptions, createHttpFetchTool } from './http-fetch.ts';
import { createWorkspaceListTool } from './workspace-list.ts';
import { createWorkspaceReadTool } from './workspace-read.ts';
import { createWorkspaceSearchTool } from './workspace-search.ts';
import { createWorkspaceWriteTool } from './workspace-write.ts';

export { createHttpFetchTool } from './http-fetch.ts';
export { createWorkspaceListTool } from './workspace-list.ts';
export { createWorkspaceReadTool } from './workspace-read.ts';
export { createWorkspaceSearchTool } from './workspace-search.ts';
export { createWorkspaceWriteTool } from './workspace-write.ts';

/** Options for {@link registerBuiltins}. */
export interface BuiltinOptions {
  /** Absolute (or cwd-relative) workspace folder; it must exist when a tool runs. */
  workspaceRoot: string;
  /** Cap on bytes `workspace_read` returns. */
  readMaxBytes?: number;
  http?: HttpFetchOptions;
}

/** The names {@link registerBuiltins} registers, in order. */
export const BUILTIN_TOOL_NAMES = ['workspace_list', 'workspace_search', 'workspace_read', 'workspace_write', 'http_fetch'] as const;

/**
 * Registers `workspace_list`, `workspace_search`, `workspace_read`, `workspace_write` and
 * `http_fetch` over one workspace root and returns that `WorkspaceFs`. Throws `InvariantError` if
 * any of these names is already registered.
 */
export function registerBuiltins(registry: ToolRegistry, options: BuiltinOptions): { workspace: WorkspaceFs } {
  const workspace = new WorkspaceFs(options.workspaceRoot);
  registry.register(createWorkspaceListTool({ workspace }));
  registry.register(createWorkspaceSearchTool({ workspace }));
  registry.register(
    createWorkspaceReadTool(options.readMaxBytes === undefined ? { workspace } : { workspace, maxBytes: options.readMaxBytes }),
  );
  registry.register(createWorkspaceWriteTool({ workspace }));
  registry.register(createHttpFetchTool(options.http ?? {}));
  return { workspace };
}
