/**
 * The `mcp.servers` configuration contract: external MCP servers whose tools the harness offers to
 * roles (issue D). Pure zod, no I/O, so `src/config/schema.ts` can embed it. Validated strictly
 * like the rest of `config.yaml`: unknown keys fail startup with the key path named.
 *
 * Nothing here is a secret store: `stdio.env` and `http.headers` are written to the config file
 * in clear, so they must hold settings, never tokens.
 */
import { z } from 'zod';
import { ActionCategory } from '../../shared/vocabulary.ts';

/**
 * A server name: lowercase letters, digits and single dashes, starting with a letter, at most 24
 * characters. No underscores, so the `server__tool` separator is unambiguous, and short enough to
 * leave most of the 64 characters of a tool name to the tool.
 */
export const SERVER_NAME = /^[a-z](?:[a-z0-9]|-(?!-)){0,23}$/;

const StdioServer = z.strictObject({
  /** The executable. A relative path containing a slash resolves against the config file's folder. */
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Extra environment for the child (merged over the SDK's safe default: HOME, PATH, …). */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  /** The child's working directory; relative to the config file's folder (the default). */
  cwd: z.string().min(1).optional(),
});

const HttpServer = z.strictObject({
  /** A Streamable HTTP MCP endpoint. */
  url: z.url({ protocol: /^https?$/ }),
  /** Extra request headers (not for secrets: this file is not a secret store). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string()).default({}),
});

const ToolFilter = z.strictObject({
  /** The server's tool names to offer (default: all it lists). */
  allow: z.array(z.string().min(1)).optional(),
  /** The server's tool names never offered (wins over `allow`). */
  deny: z.array(z.string().min(1)).default([]),
  /** Per-tool category, by the server's tool name; replaces the category derived from annotations. */
  categories: z.record(z.string().min(1), ActionCategory).default({}),
});

export const ExternalMcpServerConfig = z
  .strictObject({
    name: z.string().regex(SERVER_NAME, 'lowercase letters, digits and single dashes, starting with a letter, at most 24 characters'),
    stdio: StdioServer.optional(),
    http: HttpServer.optional(),
    tools: ToolFilter.default({ deny: [], categories: {} }),
    /** Longest single tool call before it fails with a timeout and the connection is reset. */
    timeoutMs: z.int().positive().max(600_000).default(30_000),
    /** Longest connect + initialize + tools/list. */
    connectTimeoutMs: z.int().positive().max(120_000).default(10_000),
  })
  .refine((server) => (server.stdio === undefined) !== (server.http === undefined), {
    message: 'give exactly one of stdio or http',
    path: ['stdio'],
  });
export type ExternalMcpServerConfig = z.infer<typeof ExternalMcpServerConfig>;

/** `mcp.servers`: names must be unique. */
export const ExternalMcpServers = z
  .array(ExternalMcpServerConfig)
  .default([])
  .superRefine((servers, ctx) => {
    const seen = new Set<string>();
    servers.forEach((server, index) => {
      if (seen.has(server.name)) ctx.addIssue({ code: 'custom', message: 'duplicate server name', path: [index, 'name'] });
      seen.add(server.name);
    });
  });
