import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIOS_PATH } from '../../../src/model/create-model.ts';
import { DOCTOR_PROMPT, type DoctorReport, runDoctor } from '../../../src/model/doctor.ts';
import { loadScenarioFile } from '../../../src/model/scenario-schema.ts';
import { type FakeOpenAiServerOptions, type FakeOpenAiServer, startFakeOpenAiServer } from '../../../src/model/testing/fake-openai-server.ts';

const API_KEY = 'sk-CANARY-model-test';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((close) => close()));
  closers = [];
});

async function serve(options: FakeOpenAiServerOptions): Promise<{ server: FakeOpenAiServer; url: string }> {
  const { server, url, close } = await startFakeOpenAiServer(options);
  closers.push(close);
  return { server, url };
}

function expectNoSecret(report: DoctorReport): void {
  expect(JSON.stringify(report)).not.toContain(API_KEY);
}

describe('runDoctor', () => {
  it('reports the scripted model without a remote check, and a broken scenario file as misconfigured', async () => {
    const scripted = await runDoctor({ provider: 'scripted', scenariosPath: DEFAULT_SCENARIOS_PATH });
    expect(scripted).toMatchObject({ status: 'scripted', model: 'scripted' });
    const count = loadScenarioFile(DEFAULT_SCENARIOS_PATH).scenarios.length;
    expect(count).toBeGreaterThan(0);
    expect(scripted.message).toContain(`offline scripted model (no AI provider is called); ${String(count)} scenario(s) from`);

    const dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), 'scenarios: []');
      const broken = await runDoctor({ provider: 'scripted', scenariosPath: join(dir, 'bad.yaml') });
      expect(broken.status).toBe('misconfigured');
      expect(broken.message).toMatch(/invalid scenario file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names missing settings by key, never values', async () => {
    const report = await runDoctor({ provider: 'openai', name: 'fake-model', apiKey: API_KEY });
    expect(report.status).toBe('misconfigured');
    expect(report.message).toBe('the openai provider needs model.baseUrl (OPENAI_BASE_URL)');
    expectNoSecret(report);
    const none = await runDoctor({ provider: 'openai' });
    expect(none.message).toMatch(/model\.name \(HARNESS_MODEL\), model\.baseUrl \(OPENAI_BASE_URL\), OPENAI_API_KEY/);
  });

  it('reports a closed port as unreachable', async () => {
    const { url, close } = await startFakeOpenAiServer();
    await close();
    const report = await runDoctor({ provider: 'openai', name: 'fake-model', baseUrl: url, apiKey: API_KEY, timeoutMs: 2000 });
    expect(report.status).toBe('unreachable');
    expect(report.message).toMatch(/cannot connect/);
    expectNoSecret(report);
  });

  it('reports a 5xx models list as unreachable', async () => {
    const { url } = await serve({ modelsReply: { status: 503 } });
    const report = await runDoctor({ provider: 'openai', name: 'fake-model', baseUrl: url, apiKey: API_KEY, timeoutMs: 2000 });
    expect(report.status).toBe('unreachable');
    expect(report.message).toMatch(/503/);
  });

  it('reports a hanging server as unreachable after the timeout', async () => {
    const { url } = await serve({ models: ['fake-model'], script: [{ hang: true }] });
    const report = await runDoctor({ provider: 'openai', name: 'fake-model', baseUrl: url, apiKey: API_KEY, timeoutMs: 300 });
    expect(report.status).toBe('unreachable');
    expect(report.message).toMatch(/round trip failed: .*timed out/);
  });

  it('reports a rejected key as misconfigured', async () => {
    const { url } = await serve({ apiKey: 'sk-other-key-entirely' });
    const report = await runDoctor({ provider: 'openai', name: 'fake-model', baseUrl: url, apiKey: API_KEY, timeoutMs: 2000 });
    expect(report.status).toBe('misconfigured');
    expect(report.message).toMatch(/401.*check OPENAI_API_KEY/);
    expectNoSecret(report);
  });

  it('reports a model missing from the list, with the list', async () => {
    const { url, server } = await serve({ models: ['llama-3', 'qwen-2'] });
    const report = await runDoctor({ provider: 'openai', name: 'gpt-4o-mini', baseUrl: url, apiKey: API_KEY, timeoutMs: 2000 });
    expect(report).toMatchObject({ status: 'model_missing', models: ['llama-3', 'qwen-2'], model: 'openai:gpt-4o-mini' });
    expect(server.chatRequests).toHaveLength(0);
  });

  it('reports ok after a round trip, saying whether the reply matched', async () => {
    const { url, server } = await serve({ models: ['fake-model'], script: [{ content: 'MODEL_OK' }, { content: 'Sure! MODEL_OK?' }] });
    const input = { provider: 'openai' as const, name: 'fake-model', baseUrl: url, apiKey: API_KEY, timeoutMs: 2000 };
    const ok = await runDoctor(input);
    expect(ok).toMatchObject({ status: 'ok', reply: 'MODEL_OK', replyMatched: true, models: ['fake-model'] });
    expect(ok.baseUrl).toBe(url);
    expect(server.chatRequests[0]?.body).toMatchObject({ model: 'fake-model', messages: [{ role: 'user', content: DOCTOR_PROMPT }] });
    expect(server.chatRequests[0]?.headers['authorization']).toBe(`Bearer ${API_KEY}`);

    const loose = await runDoctor(input);
    expect(loose).toMatchObject({ status: 'ok', reply: 'Sure! MODEL_OK?', replyMatched: false });
    expectNoSecret(loose);
  });
});
