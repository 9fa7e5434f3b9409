/**
 * Issue D: `harness mcp stdio` for desktop clients, driven by the official SDK `Client` over
 * `StdioClientTransport`, which spawns `node --import tsx src/cli/main.ts mcp stdio` in a tmp
 * config directory (a copy of the repo's config, roles and scenarios; data in the tmp dir).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../../src/config/load-config.ts';
import { createLogger } from '../../../../src/shared/logger.ts';
import { LowdbRunStore } from '../../../../src/store/lowdb-run-store.ts';
import { type CliSandbox, REPO, createSandbox } from '../../cli/cli-fixture.ts';
import { ALL_TOOL_NAMES, READ_TOOL_NAMES, errorText, payload } from './fixture.ts';

const MAIN = join(REPO, 'src', 'cli', 'main.ts');
// `node --import tsx` resolves `tsx` from the cwd, which is the sandbox: name the repo's copy.
const TSX = pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

let sandbox: CliSandbox;
let client: Client | undefined;
const stderr: string[] = [];

beforeEach(async () => {
  sandbox = await createSandbox({ LOG_LEVEL: 'info' });
  stderr.length = 0;
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  await sandbox.cleanup();
});

async function connectStdio(args: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', TSX, MAIN, 'mcp', 'stdio', ...args],
    cwd: sandbox.dir,
    env: sandbox.env,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  const c = new Client({ name: 'desktop-test', version: '1.0.0' });
  await c.connect(transport);
  client = c;
  return c;
}

/** A queued root run in the sandbox's data directory, as a Slack task would leave it. */
async function seedRun(task: string): Promise<string> {
  const config = loadConfig({ cwd: sandbox.dir, env: sandbox.env });
  const runtime = await createRuntime(config, { lock: true, logger: createLogger({ level: 'silent' }) });
  try {
    const doc = await runtime.harness.createRun({ task, role: 'pm', requestedBy: { userId: 'U_DESK', source: 'slack' } });
    return doc.run.runId;
  } finally {
    await runtime.close();
  }
}

async function readRun(runId: string) {
  const store = await LowdbRunStore.open({ dataDir: sandbox.dataDir, lock: false });
  try {
    return await store.get(runId);
  } finally {
    await store.close();
  }
}

describe('harness mcp stdio (official SDK client over stdio)', () => {
  it('read-only by default: six read tools over the sandbox data, lifecycle tools absent', async () => {
    const runId = await seedRun('summarise the incident review');
    const c = await connectStdio([]);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(READ_TOOL_NAMES);
    const runs = payload(await c.callTool({ name: 'list_runs', arguments: {} }));
    expect(runs['runs']).toEqual([expect.objectContaining({ run_id: runId, status: 'queued', role: 'pm' })]);
    expect(payload(await c.callTool({ name: 'get_run', arguments: { run_id: runId } }))).toMatchObject({ run_id: runId, task: 'summarise the incident review' });
    expect(errorText(await c.callTool({ name: 'draft_agent', arguments: { run_id: runId, role: 'writer', task: 'x' } }))).toMatch(/not found/);
    expect(errorText(await c.callTool({ name: 'get_run', arguments: { run_id: 'no/such' } }))).toMatch(/Input validation error/);
    await c.close();
    client = undefined;
    // The trace of each call went to stderr with the client name; stdout carried only MCP.
    expect(stderr.join('')).toMatch(/"mcpClient":"stdio".*"tool":"get_run"/);
  }, 60_000);

  it('--access full drafts a sub-agent under a stored run, recorded with the client name in the run and the audit log', async () => {
    const parentId = await seedRun('plan the release');
    const c = await connectStdio(['--access', 'full', '--client', 'desk']);
    expect((await c.listTools()).tools.map((t) => t.name)).toEqual(ALL_TOOL_NAMES);
    const drafted = payload(await c.callTool({ name: 'draft_agent', arguments: { run_id: parentId, role: 'writer', task: 'draft the release notes' } }));
    const childId = String(drafted['agent_id']);
    expect(drafted).toMatchObject({ parent_id: parentId, role: 'writer', lineage: ['pm', 'writer'] });
    const awaited = payload(await c.callTool({ name: 'await_agent', arguments: { agent_id: childId, timeout_seconds: 30 } }));
    expect(awaited).toMatchObject({ agent_id: childId, timed_out: false });
    await c.close();
    client = undefined;

    const child = await readRun(childId);
    expect(child?.run).toMatchObject({ parentRunId: parentId, rootRunId: parentId, depth: 1 });
    const parent = await readRun(parentId);
    expect(parent?.trace.find((e) => e.event === 'subagent_drafted')?.detail).toMatchObject({ childRunId: childId, by: 'mcp:desk' });
    const audit = (await readFile(join(sandbox.dataDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = audit.filter((e) => e['action'] === 'mcp_call');
    expect(calls.map((e) => e['reason'])).toEqual(['draft_agent: ok', 'await_agent: ok']);
    expect(calls.every((e) => e['actor'] === 'mcp:desk' && e['source'] === 'mcp')).toBe(true);
  }, 60_000);

  it('--access full is refused while another process holds the data-dir lock', async () => {
    await seedRun('anything');
    const config = loadConfig({ cwd: sandbox.dir, env: sandbox.env });
    const holder = await createRuntime(config, { lock: true, logger: createLogger({ level: 'silent' }) });
    try {
      const result = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', TSX, MAIN, 'mcp', 'stdio', '--access', 'full'], { cwd: sandbox.dir, env: sandbox.env });
        let err = '';
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
        child.on('close', (code) => resolve({ code, err }));
        child.stdin.end();
      });
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/owns .*data/);
    } finally {
      await holder.close();
    }
  }, 60_000);

  it('an unknown transport or access level is a usage error (exit 2)', async () => {
    expect((await sandbox.run(['mcp', 'http'])).code).toBe(2);
    const bad = await sandbox.run(['mcp', 'stdio', '--access', 'admin']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--access must be read or full/);
  }, 60_000);
});
