/**
 * A whole governed run on the OpenAI path: `provider: openai` in config.yaml, the real `openai`
 * client (via createRuntime, as the bot builds it) against the OpenAI-compatible fake on loopback,
 * the durable store. The model's workspace_write stops at a gate, an approver's decision resumes
 * it, the tool result goes back to the model paired with its call id, and the run completes.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import { type FakeOpenAiServer, startFakeOpenAiServer } from '../../../src/model/testing/fake-openai-server.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const API_KEY = 'sk-CANARY-openai-run';
const REPORT = '# Durable execution\n\nEvery step is persisted before it runs.\n';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function setUp(server: { url: string }): Promise<{ runtime: Runtime; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'openai-run-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await cp(join(REPO_ROOT, 'workspace'), join(dir, 'workspace'), { recursive: true });
  await writeFile(
    join(dir, 'config.yaml'),
    [
      'dataDir: data',
      'workspace: { root: workspace }',
      'model:',
      '  provider: openai',
      '  name: fake-model',
      `  baseUrl: ${JSON.stringify(server.url)}`,
      '  maxRetries: 0',
      'roles:',
      `  dir: ${JSON.stringify(join(REPO_ROOT, 'roles'))}`,
      '  default: writer',
      'policy:',
      '  approvers: { default: [U_APPROVER] }',
      '  fourEyes: true',
      '  filesystem: { roots: [reports] }',
      'logLevel: silent',
    ].join('\n'),
  );
  const config = loadConfig({ cwd: dir, env: { OPENAI_API_KEY: API_KEY } });
  const runtime = await createRuntime(config, { lock: true });
  cleanups.push(() => runtime.close());
  return { runtime, dir };
}

describe('a governed run with provider: openai', () => {
  it('gates the model’s write, resumes on approval and completes with the tool result paired to its call', async () => {
    const handle = await startFakeOpenAiServer({
      apiKey: API_KEY,
      models: ['fake-model'],
      script: [
        { toolCalls: [{ id: 'call_write_1', name: 'workspace_write', arguments: JSON.stringify({ path: 'reports/durable.md', content: REPORT }) }], usage: { prompt_tokens: 120, completion_tokens: 30 } },
        { content: 'Report written to reports/durable.md.', usage: { prompt_tokens: 180, completion_tokens: 12 } },
      ],
    });
    const fake: FakeOpenAiServer = handle.server;
    cleanups.push(() => handle.close());
    const { runtime, dir } = await setUp(handle);
    const { harness } = runtime;

    const paused = await harness.startRun({
      task: 'write a short report on durable execution',
      requestedBy: { userId: 'U_REQUESTER', source: 'cli' },
      origin: { kind: 'cli' },
    });
    expect(paused.run.error).toBeNull();
    expect(paused.run.status).toBe('waiting_approval');
    const gate = paused.run.gates[0]!;
    expect(gate).toMatchObject({ tool: 'workspace_write', status: 'pending', args: { path: 'reports/durable.md', content: REPORT } });
    expect(existsSync(join(dir, 'workspace', 'reports', 'durable.md'))).toBe(false);

    const first = fake.chatRequests[0]!.body as { model: string; messages: { role: string; content: unknown }[]; tools: { function: { name: string } }[] };
    expect(first.model).toBe('fake-model');
    expect(JSON.stringify(first.messages)).toContain('write a short report on durable execution');
    expect(first.tools.map((t) => t.function.name)).toContain('workspace_write');
    expect(fake.requests.every((r) => r.headers['authorization'] === `Bearer ${API_KEY}`)).toBe(true);

    const { doc } = await harness.approve({ runId: paused.run.runId, actor: { userId: 'U_APPROVER', source: 'cli' } });
    expect(doc.run.status).toBe('completed');
    expect(doc.run.result).toBe('Report written to reports/durable.md.');
    expect(await readFile(join(dir, 'workspace', 'reports', 'durable.md'), 'utf8')).toBe(REPORT);

    const second = fake.chatRequests[1]!.body as { messages: { role: string; tool_call_id?: string; tool_calls?: { id: string }[] }[] };
    const call = second.messages.find((m) => m.role === 'assistant' && m.tool_calls !== undefined);
    const result = second.messages.find((m) => m.role === 'tool');
    expect(call?.tool_calls?.[0]?.id).toBe('call_write_1');
    expect(result?.tool_call_id).toBe('call_write_1');
    expect(fake.unexpected).toEqual([]);

    const stored = (await runtime.store.get(paused.run.runId))!;
    expect(replayTrace(stored.trace)).toEqual(stored.run);
    expect(stored.run.usage).toMatchObject({ inputTokens: 300, outputTokens: 42 });
    for (const file of await filesUnder(join(dir, 'data'))) {
      expect(await readFile(file, 'utf8'), file).not.toContain(API_KEY);
    }
  });
});
