/**
 * External MCP servers through the SDK Client over in-memory transports: tools become registry
 * tools (strict schemas, category from annotations), an `isError` result is a tool error, a server
 * that dies mid-call or hangs gives a clear error and is reconnected on the next use, and failed
 * connects back off.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExternalMcpServerConfig } from '../../../../src/mcp/external/config.ts';
import type { TransportFactory } from '../../../../src/mcp/external/connection.ts';
import { ExternalMcpTools } from '../../../../src/mcp/external/manager.ts';
import { compilePolicy, decide } from '../../../../src/policy/engine.ts';
import { PolicyConfig } from '../../../../src/policy/types.ts';
import { FakeClock } from '../../../../src/shared/clock.ts';
import { ToolError } from '../../../../src/shared/errors.ts';
import { silentLogger } from '../../../../src/shared/logger.ts';
import { ToolRegistry } from '../../../../src/tools/registry.ts';
import type { ToolContext } from '../../../../src/tools/types.ts';

interface World {
  starts: number;
  calls: string[];
  /** Set by a test: what the next `work` call does. */
  mode: 'ok' | 'crash' | 'hang' | 'error';
  /** Connects fail while this is above zero (each attempt decrements it). */
  failConnects: number;
  serverSides: InMemoryTransport[];
}

function fakeServer(world: World): TransportFactory {
  return () => {
    world.starts += 1;
    if (world.failConnects > 0) {
      world.failConnects -= 1;
      throw new Error('spawn ENOENT');
    }
    const [client, server] = InMemoryTransport.createLinkedPair();
    world.serverSides.push(server);
    const mcp = new McpServer({ name: 'fake', version: '1.0.0' });
    mcp.registerTool('peek', { description: 'look', inputSchema: { id: z.string().regex(/^n\d+$/) }, annotations: { readOnlyHint: true } }, async ({ id }) => ({
      content: [{ type: 'text', text: JSON.stringify({ id }) }],
    }));
    mcp.registerTool('work', { description: 'do', inputSchema: { n: z.number().int() } }, async ({ n }) => {
      world.calls.push(`work:${n}`);
      if (world.mode === 'crash') {
        world.mode = 'ok';
        await server.close();
        return new Promise(() => undefined);
      }
      if (world.mode === 'hang') {
        world.mode = 'ok';
        return new Promise(() => undefined);
      }
      if (world.mode === 'error') return { content: [{ type: 'text', text: 'no such thing' }], isError: true };
      return { content: [{ type: 'text', text: `done ${n}` }] };
    });
    mcp.registerTool('zap', { description: 'destroy', inputSchema: {}, annotations: { destructiveHint: true } }, async () => ({ content: [] }));
    mcp.registerTool('weird.name', { description: 'dotted', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => ({ content: [] }));
    void mcp.connect(server);
    return client;
  };
}

const config = (extra: Record<string, unknown> = {}): ExternalMcpServerConfig =>
  ExternalMcpServerConfig.parse({ name: 'fake', stdio: { command: 'unused' }, timeoutMs: 200, ...extra });

function ctx(signal = new AbortController().signal): ToolContext {
  return { runId: 'run-1', stepId: 's1', idempotencyKey: 'run-1:s1', role: 'r', signal };
}

let open: ExternalMcpTools[] = [];
afterEach(async () => {
  await Promise.all(open.map((m) => m.close()));
  open = [];
});

async function setup(world: World, server = config(), clock?: FakeClock): Promise<{ registry: ToolRegistry; external: ExternalMcpTools }> {
  const registry = new ToolRegistry();
  const external = new ExternalMcpTools([server], { logger: silentLogger, configDir: '/', transport: fakeServer(world), ...(clock ? { clock } : {}) });
  open.push(external);
  await external.start(registry);
  return { registry, external };
}

const newWorld = (): World => ({ starts: 0, calls: [], mode: 'ok', failConnects: 0, serverSides: [] });

describe('external MCP tools in the registry', () => {
  it('registers namespaced, sanitised tools with categories from annotations and source mcp:<server>', async () => {
    const { registry } = await setup(newWorld());
    const tools = registry.list().map((t) => ({ name: t.name, category: t.category, risk: t.risk, source: t.source }));
    expect(tools).toEqual([
      { name: 'fake__peek', category: 'read_only', risk: 'read', source: 'mcp:fake' },
      { name: 'fake__work', category: 'unknown', risk: 'write', source: 'mcp:fake' },
      { name: 'fake__zap', category: 'unknown', risk: 'irreversible', source: 'mcp:fake' },
      { name: 'fake__weird_name', category: 'read_only', risk: 'read', source: 'mcp:fake' },
    ]);
    expect(registry.get('fake__work')?.jsonSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['n'] });
  });

  it('policy: read-only tools are allowed, unhinted and destructive ones gated, under the default categories', async () => {
    const { registry } = await setup(newWorld());
    const policy = compilePolicy(PolicyConfig.parse({ categories: { read_only: 'allow', unknown: 'approve' }, approvers: { default: ['U1'] } }));
    const decision = (name: string): string => {
      const tool = registry.get(name)!;
      return decide(policy, { tool: name, registered: true, category: tool.category, risk: tool.risk, role: 'r', roleTools: '*', writePaths: [], urls: [] }).decision;
    };
    expect(decision('fake__peek')).toBe('allow');
    expect(decision('fake__work')).toBe('approve');
    expect(decision('fake__zap')).toBe('approve');
    // Even a policy that allows `unknown` cannot let an unhinted tool run without a human (risk floor).
    const lax = compilePolicy(PolicyConfig.parse({ categories: { unknown: 'allow' }, approvers: { default: ['U1'] } }));
    const zap = registry.get('fake__zap')!;
    expect(decide(lax, { tool: 'fake__zap', registered: true, category: zap.category, risk: zap.risk, role: 'r', roleTools: '*', writePaths: [], urls: [] }).decision).toBe('approve');
  });

  it('applies tools.allow / tools.deny and configured categories', async () => {
    const { registry, external } = await setup(newWorld(), config({ tools: { deny: ['zap'], allow: ['peek', 'work', 'zap'], categories: { work: 'filesystem_write' } } }));
    expect(registry.list().map((t) => t.name)).toEqual(['fake__peek', 'fake__work']);
    expect(registry.get('fake__work')).toMatchObject({ category: 'filesystem_write', risk: 'write' });
    expect(external.reports()[0]?.skipped).toEqual([
      { server: 'fake', original: 'zap', reason: 'denied by tools.deny', filtered: true },
      { server: 'fake', original: 'weird.name', reason: 'not in tools.allow', filtered: true },
    ]);
  });

  it('validates arguments against the server schema before any call', async () => {
    const world = newWorld();
    const { registry } = await setup(world);
    expect(registry.validateArgs('fake__work', '{"n":"x"}', 1000)).toMatchObject({ ok: false });
    expect(registry.validateArgs('fake__work', '{"n":1,"extra":2}', 1000)).toMatchObject({ ok: false, error: expect.stringContaining('unexpected key "extra"') });
    expect(registry.validateArgs('fake__peek', '{"id":"zz"}', 1000)).toMatchObject({ ok: false, error: expect.stringContaining('id') });
    expect(registry.validateArgs('fake__peek', '{"id":"n1"}', 1000)).toEqual({ ok: true, args: { id: 'n1' } });
    expect(world.calls).toEqual([]);
  });

  it('runs a call and turns an isError result into a non-retryable ToolError naming the server', async () => {
    const world = newWorld();
    const { registry } = await setup(world);
    await expect(registry.get('fake__work')!.handler({ n: 1 }, ctx())).resolves.toMatchObject({ content: 'done 1' });
    world.mode = 'error';
    const failure = registry.get('fake__work')!.handler({ n: 2 }, ctx());
    await expect(failure).rejects.toBeInstanceOf(ToolError);
    await expect(failure).rejects.toMatchObject({ retryable: false, message: 'MCP server "fake" tool work failed: no such thing' });
  });

  it('a server that dies mid-call gives a clear error and is reconnected on the next use', async () => {
    const world = newWorld();
    const { registry, external } = await setup(world);
    world.mode = 'crash';
    await expect(registry.get('fake__work')!.handler({ n: 1 }, ctx())).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('MCP server "fake" exited or closed the connection during work'),
    });
    expect(external.reports()[0]?.state).toBe('idle');
    expect(world.starts).toBe(1);
    await expect(registry.get('fake__work')!.handler({ n: 2 }, ctx())).resolves.toMatchObject({ content: 'done 2' });
    expect(world.starts).toBe(2);
    expect(world.calls).toEqual(['work:1', 'work:2']);
  });

  it('a hung call times out with a clear error, resets the connection and the next call reconnects', async () => {
    const world = newWorld();
    const { registry } = await setup(world);
    world.mode = 'hang';
    await expect(registry.get('fake__work')!.handler({ n: 1 }, ctx())).rejects.toMatchObject({
      code: 'tool_timeout',
      message: expect.stringContaining('MCP server "fake" did not answer work within 200 ms'),
    });
    await expect(registry.get('fake__work')!.handler({ n: 2 }, ctx())).resolves.toMatchObject({ content: 'done 2' });
    expect(world.starts).toBe(2);
  });

  it('the run signal cancels a call without blaming the server', async () => {
    const world = newWorld();
    const { registry } = await setup(world, config({ timeoutMs: 60_000 }));
    world.mode = 'hang';
    const abort = new AbortController();
    const call = registry.get('fake__work')!.handler({ n: 1 }, ctx(abort.signal));
    await new Promise((r) => setTimeout(r, 20));
    abort.abort(new Error('run cancelled'));
    await expect(call).rejects.toMatchObject({ message: 'call to fake/work was cancelled' });
  });

  it('an unreachable server at startup leaves its tools unregistered, backs off, then registers them once it answers', async () => {
    const world = newWorld();
    world.failConnects = 2;
    const clock = new FakeClock();
    const { registry, external } = await setup(world, config(), clock);
    expect(registry.list()).toEqual([]);
    expect(external.reports()[0]).toMatchObject({ state: 'backoff', failures: 1, lastError: expect.stringContaining('ENOENT') });
    expect(external.reports()[0]?.retryAt).toBe(clock.now() + 1000);
    // Inside the backoff window nothing is spawned.
    await external.start(registry);
    expect(world.starts).toBe(1);
    clock.advance(1000);
    await external.start(registry);
    expect(world.starts).toBe(2);
    expect(external.reports()[0]).toMatchObject({ failures: 2, retryAt: clock.now() + 2000 });
    clock.advance(2000);
    await external.start(registry);
    expect(external.reports()[0]).toMatchObject({ state: 'connected', failures: 0, lastError: null });
    expect(registry.has('fake__work')).toBe(true);
  });
});
