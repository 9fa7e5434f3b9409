/**
 * Issue E item 1: `npm start` (`src/main.ts`) with no Slack token and no API key starts the local
 * workspace, its browser UI and the bot over Socket Mode; it prints exactly one line (the URL) on
 * stdout, listens on loopback only, honours PORT and HARNESS_DATA_DIR, writes its logs into the
 * data folder, and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, makeWorld, type TmpWorld } from '../integration/slack/support/rig.ts';

const TSX_IMPORT = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Local addresses of the TCP sockets `pid` listens on (Linux /proc). */
async function listeningAddresses(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1] !== undefined) inodes.add(match[1]);
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st … inode (index 9); st 0A = LISTEN
      if (cols[3] === '0A' && cols[9] !== undefined && inodes.has(cols[9])) found.push(cols[1] ?? '');
    }
  }
  return found;
}

describe('npm start without Slack tokens', () => {
  let world: TmpWorld;

  beforeAll(async () => {
    world = await makeWorld();
  });

  afterAll(async () => {
    await world.cleanup();
  });

  it('serves the local workspace and its UI on loopback, prints one line, stops on SIGTERM', async () => {
    const dataDir = join(world.dir, 'custom-data');
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, join(REPO_ROOT, 'src', 'main.ts')], {
      cwd: world.dir,
      // No SLACK_* variable and no OPENAI_API_KEY: the embedded default.
      env: { PATH: process.env['PATH'] ?? '', HARNESS_CONFIG: world.configPath, PORT: '0', HARNESS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL line:\n${stdout}\n${stderr}`)), 30_000);
        child.stdout.on('data', () => {
          const match = /^Local Slack workspace: (http:\/\/127\.0\.0\.1:\d+) /m.exec(stdout);
          if (match?.[1] !== undefined) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
      });
      const health = (await (await fetch(`${url}/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ ok: true, socket_connections: 1 });
      const home = await fetch(url, { headers: { accept: 'text/html' }, redirect: 'manual' });
      expect(home.headers.get('location')).toBe('/ui/');
      expect(await (await fetch(`${url}/ui/`)).text()).toContain('app.js');

      const addresses = await listeningAddresses(child.pid!);
      expect(addresses.length).toBeGreaterThan(0);
      // 0100007F:<port> is 127.0.0.1 in /proc's little-endian hex.
      for (const address of addresses) expect(address).toMatch(/^0100007F:/);

      expect(stdout.trim().split('\n')).toHaveLength(1);
      expect(stdout).toContain(join(dataDir, 'local-workspace.log').replace(`${world.dir}/`, ''));
      expect(stderr).toBe('');
      expect(existsSync(join(dataDir, 'local-workspace.log'))).toBe(true);
      expect(await readFile(join(dataDir, 'local-workspace.log'), 'utf8')).toContain('slack-harness started: local mode, scripted model');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
