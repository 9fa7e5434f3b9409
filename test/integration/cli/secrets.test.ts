/**
 * P16 over CLI flows: with canary secrets in the environment, no CLI output (stdout, stderr) and
 * no file the CLI writes (data dir, audit log, exports, workspace) ever contains one, including
 * a deliberate configuration error whose bad values ARE the canaries and a doctor run against an
 * unreachable provider holding the API key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, type CliSandbox, createSandbox, readTree } from './cli-fixture.ts';

const CANARIES = {
  SLACK_BOT_TOKEN: 'xoxb-CANARY-cli-1234567890',
  SLACK_APP_TOKEN: 'xapp-CANARY-cli-1234567890',
  SLACK_SIGNING_SECRET: 'CANARYsigningsecret123',
  OPENAI_API_KEY: 'sk-CANARY-cli-1234567890',
  MCP_HTTP_TOKEN: 'CANARYmcptoken123456',
};

function leaks(text: string): string[] {
  return Object.entries(CANARIES)
    .filter(([, value]) => text.includes(value))
    .map(([key]) => key);
}

describe('CLI flows never print or persist a secret (P16)', () => {
  let box: CliSandbox;
  let outside: string;
  const outputs: { args: string[]; result: CliResult }[] = [];

  const run = async (args: string[], env?: Record<string, string>): Promise<CliResult> => {
    const result = await box.run(args, env);
    outputs.push({ args, result });
    return result;
  };

  beforeAll(async () => {
    box = await createSandbox(CANARIES);
    outside = await mkdtemp(join(tmpdir(), 'harness-cli-badcfg-'));
  });
  afterAll(async () => {
    await box.cleanup();
    await rm(outside, { recursive: true, force: true });
  });

  it('start, pending, approve, reject, inspect, export, doctor and blueprint leak nothing', async () => {
    const first = await run(['start', '--json', 'write a short report on durable execution']);
    expect(first.code).toBe(0);
    const approveId = (JSON.parse(first.stdout) as { run: { run_id: string } }).run.run_id;
    const second = await run(['start', '--json', 'write a short report on durable execution']);
    const rejectId = (JSON.parse(second.stdout) as { run: { run_id: string } }).run.run_id;

    expect((await run(['pending'])).code).toBe(0);
    expect((await run(['pending', '--json'])).code).toBe(0);
    expect((await run(['approve', approveId, '--as', 'U_APPROVER1'])).code).toBe(0);
    expect((await run(['reject', rejectId, '--as', 'U_APPROVER2', '--reason', 'not now', '--json'])).code).toBe(0);
    expect((await run(['inspect', approveId])).code).toBe(0);
    expect((await run(['inspect', rejectId, '--json'])).code).toBe(0);
    expect((await run(['export', approveId])).code).toBe(0);
    expect((await run(['blueprint', '--json'])).code).toBe(0);
    const doctor = await run(['doctor', '--json']);
    expect(doctor.code).toBe(0);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ config: { secrets: { OPENAI_API_KEY: 'set', SLACK_BOT_TOKEN: 'set' } } });
  });

  it('doctor against an unreachable provider exits 1 without crashing or echoing the key', async () => {
    const doctor = await run(['doctor', '--json'], { HARNESS_MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    expect(doctor.code).toBe(1);
    expect(JSON.parse(doctor.stdout)).toMatchObject({ ok: false, model: { status: 'unreachable' } });
  });

  it('a configuration error names the keys, never the (secret) values', async () => {
    const badConfig = join(outside, 'config.yaml');
    await writeFile(
      badConfig,
      [`slackToken: ${CANARIES.SLACK_BOT_TOKEN}`, 'model:', `  provider: ${CANARIES.OPENAI_API_KEY}`, `logLevel: ${CANARIES.MCP_HTTP_TOKEN}`, ''].join('\n'),
    );
    const result = await run(['runs', '--config', badConfig]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: invalid configuration/);
    for (const key of ['slackToken: unknown key', 'model.provider', 'logLevel']) expect(result.stderr).toContain(key);

    const asJson = await run(['runs', '--json', '--config', badConfig]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ error: { code: 'config_invalid' } });
  });

  it('no canary in any output or in any file under the sandbox (data dir, audit log, exports, workspace)', async () => {
    expect(outputs.length).toBeGreaterThanOrEqual(14);
    const found: string[] = [];
    for (const { args, result } of outputs) {
      for (const key of leaks(result.stdout + result.stderr)) found.push(`${key} in output of harness ${args.join(' ')}`);
    }
    const files = await readTree(box.dir);
    expect([...files.keys()].some((path) => path.startsWith('data/runs/'))).toBe(true);
    expect(files.has('data/audit.jsonl')).toBe(true);
    expect([...files.keys()].some((path) => path.startsWith('exports/'))).toBe(true);
    for (const [path, text] of files) for (const key of leaks(text)) found.push(`${key} in ${path}`);
    expect(found).toEqual([]);
  });
});
