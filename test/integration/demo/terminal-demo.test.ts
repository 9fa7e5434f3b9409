/**
 * Regression: with piped input (`printf 'task\na\n' | npm start`) the demo lost the approval answer,
 * because `rl.question` drops lines that arrive while no question is pending (the run was
 * executing). The demo must read every line, whether typed or piped.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { runTerminalDemo } from '../../../src/demo/terminal-demo.ts';
import { silentLogger } from '../../../src/shared/logger.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
let dir = '';
let runtime: Runtime | undefined;

afterEach(async () => {
  await runtime?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('terminal demo', () => {
  it('approves from piped input sent all at once, and the report is written', async () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-'));
    for (const name of ['config.yaml', 'roles', 'scenarios', 'workspace']) cpSync(join(repo, name), join(dir, name), { recursive: true });
    runtime = await createRuntime(loadConfig({ env: {}, cwd: dir }), { lock: true, logger: silentLogger });
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const rl = createInterface({ input, output });
    const printed: string[] = [];

    const demo = runTerminalDemo(runtime, rl, (line) => printed.push(line));
    // All input arrives at once, before the run reaches its gate, as with `printf … | npm start`.
    input.end('write a short report on durable execution\na\nquit\n');
    await demo;
    rl.close();

    const text = printed.join('\n');
    expect(text).toMatch(/Approval needed for workspace_write/);
    expect(text).toMatch(/approved by U_APPROVER1/);
    expect(text).toMatch(/: completed/);
    expect(existsSync(join(dir, 'workspace', 'reports', 'durable-execution.md'))).toBe(true);
  });
});
