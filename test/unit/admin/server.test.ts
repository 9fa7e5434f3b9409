/**
 * The admin socket server over a real Unix socket in a tmp data directory, in front of a Harness
 * over fakes: permissions, who may serve it, stale and foreign files in the way, the protocol's
 * refusals, and decisions that go through the Harness's own checks.
 */
import { existsSync, linkSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { type Server, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { callAdminSocket } from '../../../src/admin/client.ts';
import { type AdminRequest, MAX_REQUEST_BYTES, adminSocketPath, errorFromWire } from '../../../src/admin/protocol.ts';
import { type AdminServer, startAdminServer } from '../../../src/admin/server.ts';
import { silentCoreLogger } from '../../../src/orchestrator/deps.ts';
import { BotError, StoreLockedError } from '../../../src/shared/errors.ts';
import { type DataDirLock, acquireDataDirLock } from '../../../src/store/data-dir-lock.ts';
import { APPROVER, APPROVER2, type Fixture, ScriptedModel, makeHarness } from '../../support/harness-fixture.ts';

function reportModel() {
  return ScriptedModel.fromSteps([
    { calls: [{ name: 'workspace_write', args: { path: 'reports/durable.md', content: '# Report\n' } }] },
    { content: 'Report written to reports/durable.md.' },
  ]);
}

/** Sends raw bytes and collects everything the server writes until it closes the connection. */
function rawExchange(path: string, data: string | Buffer | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => resolve(text));
    socket.on('connect', () => {
      if (data !== null) socket.write(data);
    });
  });
}

function errorOf(text: string): { code: string; message: string } {
  const lines = text.split('\n').filter((line) => line.length > 0);
  expect(lines).toHaveLength(1);
  const body = JSON.parse(lines[0] as string) as { ok: boolean; error: { code: string; message: string } };
  expect(body.ok).toBe(false);
  return body.error;
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('hello\n');
    });
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

const call = (path: string, request: AdminRequest) => callAdminSocket(path, request, { timeoutMs: 10_000 });

let dataDir: string;
let lock: DataDirLock | undefined;
let server: AdminServer | undefined;
let fixture: Fixture | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'admin-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await lock?.release();
  lock = undefined;
  fixture?.cleanup();
  fixture = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(idleTimeoutMs?: number): Promise<AdminServer> {
  fixture = makeHarness({ model: reportModel() });
  lock = await acquireDataDirLock(dataDir);
  server = await startAdminServer({ harness: fixture.harness, dataDir, logger: silentCoreLogger, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) });
  return server;
}

describe('startAdminServer', () => {
  it('listens on <dataDir>/admin.sock with mode 0600 and removes it on close', async () => {
    const admin = await startServer();
    expect(admin.path).toBe(adminSocketPath(dataDir));
    const stats = statSync(admin.path);
    expect(stats.isSocket()).toBe(true);
    expect((stats.mode & 0o777).toString(8)).toBe('600');
    await admin.close();
    await admin.close();
    expect(existsSync(admin.path)).toBe(false);
  });

  it('refuses to start unless this process holds the data-dir lock', async () => {
    fixture = makeHarness({ model: reportModel() });
    await expect(startAdminServer({ harness: fixture.harness, dataDir, logger: silentCoreLogger })).rejects.toThrow(StoreLockedError);
    writeFileSync(join(dataDir, 'harness.lock'), `${JSON.stringify({ pid: 1, startedAt: 0, hostname: 'elsewhere' })}\n`);
    await expect(startAdminServer({ harness: fixture.harness, dataDir, logger: silentCoreLogger })).rejects.toThrow(/held by pid 1 on elsewhere/);
    expect(existsSync(adminSocketPath(dataDir))).toBe(false);
  });

  it('refuses to start when a file that is not a socket is in the way, and leaves it alone', async () => {
    writeFileSync(adminSocketPath(dataDir), 'precious');
    await expect(startServer()).rejects.toThrow(/exists and is not a socket/);
    expect(readFileSync(adminSocketPath(dataDir), 'utf8')).toBe('precious');
  });

  it('removes a stale socket left by a dead bot', async () => {
    // A socket nobody listens on: link a live one aside, then close the original.
    const side = join(dataDir, 'side.sock');
    const stale = await listen(side);
    linkSync(side, adminSocketPath(dataDir));
    await new Promise<void>((resolve) => stale.close(() => resolve()));
    expect(statSync(adminSocketPath(dataDir)).isSocket()).toBe(true);

    const admin = await startServer();
    const answer = await call(admin.path, { v: 1, op: 'resume', args: { runId: 'r_missing' }, actor: { userId: APPROVER } });
    expect(answer).toMatchObject({ delivered: true, response: { ok: false, error: { code: 'run_not_found' } } });
  });

  it('refuses to take a socket someone still listens on', async () => {
    const other = await listen(adminSocketPath(dataDir));
    try {
      await expect(startServer()).rejects.toThrow(/another process is listening/);
      expect(await rawExchange(adminSocketPath(dataDir), null)).toBe('hello\n');
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});

describe('admin requests', () => {
  it('start → approve runs through the Harness, with the actor recorded as cli', async () => {
    const admin = await startServer();
    const started = await call(admin.path, { v: 1, op: 'start', args: { task: 'write a report' }, actor: { userId: 'U_REQUESTER' } });
    if (!started.delivered || !started.response.ok) throw new Error(`start failed: ${JSON.stringify(started)}`);
    const runId = started.response.result.doc.run.runId;
    expect(started.response.result.doc.run).toMatchObject({ status: 'waiting_approval', requestedBy: { userId: 'U_REQUESTER', source: 'cli' }, origin: { kind: 'cli' } });

    const approved = await call(admin.path, { v: 1, op: 'approve', args: { runId }, actor: { userId: APPROVER } });
    if (!approved.delivered || !approved.response.ok) throw new Error(`approve failed: ${JSON.stringify(approved)}`);
    const { doc, gate } = approved.response.result;
    expect(doc.run.status).toBe('completed');
    expect(gate).toMatchObject({ status: 'approved', decidedBy: APPROVER });
    expect(doc.trace.find((e) => e.event === 'approval_granted')?.detail).toMatchObject({ by: APPROVER, source: 'cli' });
    expect((await fixture?.store.get(runId))?.run.status).toBe('completed');

    const again = await call(admin.path, { v: 1, op: 'approve', args: { runId }, actor: { userId: APPROVER2 } });
    if (!again.delivered || again.response.ok) throw new Error('expected a refusal');
    const error = errorFromWire(again.response.error);
    expect({ code: error.code, message: error.message }).toEqual({ code: 'approval_conflict', message: 'already approved by U_APPROVER1' });
  });

  it('refuses a non-approver and the requester (four-eyes) exactly as the Harness does', async () => {
    const admin = await startServer();
    const started = await call(admin.path, { v: 1, op: 'start', args: { task: 'write a report' }, actor: { userId: APPROVER2 } });
    if (!started.delivered || !started.response.ok) throw new Error('start failed');
    const runId = started.response.result.doc.run.runId;

    const viewer = await call(admin.path, { v: 1, op: 'approve', args: { runId }, actor: { userId: 'U_VIEWER' } });
    expect(viewer).toMatchObject({ response: { ok: false, error: { code: 'approval_unauthorized', message: 'you are not an approver for filesystem_write actions' } } });
    const requester = await call(admin.path, { v: 1, op: 'approve', args: { runId }, actor: { userId: APPROVER2 } });
    expect(requester).toMatchObject({ response: { ok: false, error: { code: 'approval_unauthorized', message: expect.stringMatching(/four-eyes/) } } });

    const doc = await fixture?.store.get(runId);
    expect(doc?.run.gates[0]?.status).toBe('pending');
    expect(doc?.trace.filter((e) => e.event === 'approval_refused').map((e) => e.detail['source'])).toEqual(['cli', 'cli']);
  });

  it('answers bad JSON, an unknown op and a claimed source with a usage error and closes', async () => {
    const admin = await startServer();
    expect(errorOf(await rawExchange(admin.path, '{"v":1,\n'))).toEqual({ code: 'usage', message: 'invalid admin request: not JSON', retryable: false });
    expect(errorOf(await rawExchange(admin.path, '{"v":1,"op":"drop-tables","args":{},"actor":{"userId":"U1"}}\n')).message).toMatch(/unknown admin op/);
    const claimed = '{"v":1,"op":"resume","args":{"runId":"r_1"},"actor":{"userId":"U1","source":"slack"}}\n';
    expect(errorOf(await rawExchange(admin.path, claimed)).message).toMatch(/^invalid admin request actor/);
  });

  it('answers an oversized line with an error without waiting for its end', async () => {
    const admin = await startServer();
    const error = errorOf(await rawExchange(admin.path, Buffer.alloc(MAX_REQUEST_BYTES + 1, 'x')));
    expect(error).toMatchObject({ code: 'usage', message: `admin request line exceeds ${MAX_REQUEST_BYTES} bytes` });
  });

  it('closes an idle connection with an error', async () => {
    const admin = await startServer(100);
    expect(errorOf(await rawExchange(admin.path, '{"v":1')).message).toBe('no complete request line within 100 ms');
  });

  it('serves one request per connection: what follows the first line is ignored', async () => {
    const admin = await startServer();
    const line = '{"v":1,"op":"resume","args":{"runId":"r_missing"},"actor":{"userId":"U1"}}\n';
    expect(errorOf(await rawExchange(admin.path, line + line)).code).toBe('run_not_found');
  });
});

describe('callAdminSocket', () => {
  const request: AdminRequest = { v: 1, op: 'resume', args: { runId: 'r_1' }, actor: { userId: 'U1' } };

  it('reports an absent socket as not delivered', async () => {
    const outcome = await call(adminSocketPath(dataDir), request);
    expect(outcome).toEqual({ delivered: false, reason: `no admin socket at ${adminSocketPath(dataDir)}` });
  });

  it('throws "may have been applied" when the connection closes without an answer', async () => {
    const silent = await new Promise<Server>((resolve) => {
      const s = createServer((socket) => socket.once('data', () => socket.destroy()));
      s.listen(adminSocketPath(dataDir), () => resolve(s));
    });
    try {
      await expect(call(adminSocketPath(dataDir), request)).rejects.toThrow(/did not answer .*the resume may have been applied/);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('throws when no answer comes in time, and on a malformed answer', async () => {
    const path = adminSocketPath(dataDir);
    const mute = await new Promise<Server>((resolve) => {
      const s = createServer((socket) => socket.once('data', () => socket.write('not json\n')));
      s.listen(path, () => resolve(s));
    });
    try {
      await expect(call(path, request)).rejects.toThrow(/not JSON/);
    } finally {
      await new Promise<void>((resolve) => mute.close(() => resolve()));
    }
    const slow = await new Promise<Server>((resolve) => {
      const s = createServer((socket) => socket.resume());
      s.listen(path, () => resolve(s));
    });
    try {
      await expect(callAdminSocket(path, request, { timeoutMs: 50 })).rejects.toThrow(/no answer within 50 ms/);
    } finally {
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  it('refuses an oversized request before connecting', async () => {
    const big: AdminRequest = { v: 1, op: 'start', args: { task: 'x'.repeat(MAX_REQUEST_BYTES) }, actor: { userId: 'U1' } };
    const error = await call(adminSocketPath(dataDir), big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BotError);
    expect((error as BotError).code).toBe('usage');
  });
});
