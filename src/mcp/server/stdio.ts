/**
 * `harness mcp stdio`: the same tools over stdin/stdout for desktop clients that spawn a local
 * process (issue D item 1). One client per process, so no tokens: the access level is chosen by
 * whoever configures the client (`--access read|full`), and the client name recorded in traces is
 * `--client` (default `stdio`). Nothing but MCP messages may be written to stdout: logs go to
 * stderr.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { AuditSink } from '../../orchestrator/deps.ts';
import type { Logger } from '../../shared/logger.ts';
import { callRecorder, createExternalMcpServer } from './create-server.ts';
import { AwaitMemory, type ExternalToolDeps } from './handlers.ts';
import type { McpAccessLevel } from './tool-specs.ts';
import { TracedTransport } from './traced-transport.ts';

/** Options of {@link serveMcpStdio}. */
export interface McpStdioOptions {
  deps: Omit<ExternalToolDeps, 'awaitMemory'>;
  client: string;
  level: McpAccessLevel;
  toolTimeoutMs: number;
  logger: Logger;
  audit?: AuditSink;
  /** Default `process.stdin` / `process.stdout`. */
  stdin?: Readable;
  stdout?: Writable;
}

/** Serves until the client closes stdin (or the transport fails); resolves then. */
export async function serveMcpStdio(options: McpStdioOptions): Promise<void> {
  const { deps, logger } = options;
  const server = createExternalMcpServer({
    deps: { ...deps, awaitMemory: new AwaitMemory() },
    caller: { name: options.client },
    level: options.level,
    toolTimeoutMs: options.toolTimeoutMs,
  });
  const transport = new StdioServerTransport(options.stdin, options.stdout);
  const record = callRecorder({ logger, ...(options.audit === undefined ? {} : { audit: options.audit }), now: () => deps.clock.now() });
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  const stdin = options.stdin ?? process.stdin;
  // StdioServerTransport does not notice the end of its input: close when the client hangs up.
  const onEnd = (): void => {
    void server.close();
  };
  stdin.once('end', onEnd);
  stdin.once('close', onEnd);
  await server.connect(new TracedTransport(transport, options.client, record, () => deps.clock.now()));
  logger.info({ client: options.client, level: options.level }, 'mcp stdio server ready');
  await closed;
  await record.flush();
  stdin.off('end', onEnd);
  stdin.off('close', onEnd);
}
