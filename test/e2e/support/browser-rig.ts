/**
 * The browser e2e rig (issue E): the local workspace exactly as `npm start` builds it
 * (`startLocalBot`: the Slack-compatible server, its UI, the real Bolt bot over Socket Mode with
 * the scripted model) over a tmp config, workspace and data directory, and Debian's Chromium driven
 * by playwright-core. No browser is ever downloaded: the rig uses the system's `chromium`.
 *
 * Every page records console errors and uncaught exceptions; {@link BrowserRig.assertNoPageErrors}
 * fails a test that produced any. Screenshots go to `test-artifacts/e2e/<test>/`; with
 * `E2E_UPDATE_DOCS=1` the README's screenshots in `docs/screenshots/` are rewritten too.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startLocalBot, type LocalBot } from '../../../src/bot/local-bot.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { REPO_ROOT, eventually, makeWorld, runIds, type TmpWorld } from '../../integration/slack/support/rig.ts';

export { REPO_ROOT, eventually, readRun, runIds, reports, REPORT_TASK } from '../../integration/slack/support/rig.ts';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where screenshots of each step go (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'e2e');
/** The README's screenshots, rewritten only with E2E_UPDATE_DOCS=1. */
export const DOCS_SCREENSHOTS_DIR = join(REPO_ROOT, 'docs', 'screenshots');
const UPDATE_DOCS = process.env['E2E_UPDATE_DOCS'] === '1';

/** The seeded people (src/local-workspace/workspace-state.ts), as the user switcher names them. */
export const People = {
  requester: 'U_REQUESTER',
  approver1: 'U_APPROVER1',
  approver2: 'U_APPROVER2',
  pm: 'U_PM',
  viewer: 'U_VIEWER',
} as const;

function chromiumPath(): string {
  const found = CHROMIUM_CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) throw new Error(`no Chromium at ${CHROMIUM_CANDIDATES.join(' or ')}: apt-get install -y chromium`);
  return found;
}

/** One browser page on the workspace, with its recorded errors. */
export interface WorkspacePage {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Saves a screenshot as `<n>-<name>.png` in the test's artifact folder (and docs, see above). */
  shot(name: string, options?: { docs?: string }): Promise<void>;
  /** The thread pane's messages. */
  thread(): Locator;
  /** A message in the thread pane whose text contains `text`. */
  threadMessage(text: string | RegExp): Locator;
  /** Picks another person in the user switcher and waits for the page to be live again. */
  switchUser(user: string): Promise<void>;
  /** Types a message in the channel composer: `@har` + completion, then `rest`, then Enter. */
  mentionBot(rest: string): Promise<void>;
}

/** The running world of one test file. */
export interface BrowserRig {
  local: LocalBot;
  world: TmpWorld;
  browser: Browser;
  logs: string[];
  /** Opens a new page (own context) as `user` on `channel` (default #general). */
  open(testName: string, user: string, query?: Record<string, string>): Promise<WorkspacePage>;
  /** Fails when any page opened by this rig logged a console error or threw. */
  assertNoPageErrors(): void;
  /** Resolves with the id of the run created after `before` (a set of run ids). */
  newRunId(before: ReadonlySet<string>): Promise<string>;
  close(): Promise<void>;
}

/** Options of {@link startBrowserRig}: bot options a test file sets apart from `npm start`'s. */
export interface BrowserRigOptions {
  /** The publisher's first-post delay for sub-agents (default: the product's). */
  subagentPostDelayMs?: number;
}

/** Starts the workspace + bot on a free port over a tmp world, and Chromium. */
export async function startBrowserRig(options: BrowserRigOptions = {}): Promise<BrowserRig> {
  const world = await makeWorld();
  const logs: string[] = [];
  const config = loadConfig({ env: { HARNESS_CONFIG: world.configPath, PORT: '0' }, cwd: world.dir });
  if (config.slack.mode !== 'local') throw new Error(`expected the local mode without tokens, got ${config.slack.mode}`);
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(line) } });
  const local = await startLocalBot(config, {
    logger,
    retryConfig: { retries: 0 },
    clientPingTimeoutMs: 1000,
    statusIntervalMs: 200,
    sweepIntervalMs: 3_600_000,
    ...(options.subagentPostDelayMs === undefined ? {} : { subagentPostDelayMs: options.subagentPostDelayMs }),
  });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  const pages: WorkspacePage[] = [];

  const open = async (testName: string, user: string, query: Record<string, string> = {}): Promise<WorkspacePage> => {
    const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, deviceScaleFactor: 1 });
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    const folder = join(ARTIFACTS_DIR, testName.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
    let step = 0;
    const params = new URLSearchParams({ as: user, ...query });
    await page.goto(`${local.url}/ui/?${params.toString()}`);
    await expect.poll(() => page.locator('body').getAttribute('data-user')).toBe(user);
    await expect.poll(() => page.getByTestId('connection').textContent()).toBe('live');
    const wp: WorkspacePage = {
      page,
      errors,
      async shot(name, options = {}) {
        step += 1;
        await mkdir(folder, { recursive: true });
        const path = join(folder, `${String(step).padStart(2, '0')}-${name}.png`);
        await page.screenshot({ path });
        if (UPDATE_DOCS && options.docs !== undefined) {
          await mkdir(DOCS_SCREENSHOTS_DIR, { recursive: true });
          await copyFile(path, join(DOCS_SCREENSHOTS_DIR, options.docs));
        }
      },
      thread: () => page.getByTestId('thread-list').getByTestId('message'),
      threadMessage: (text) => page.getByTestId('thread-list').getByTestId('message').filter({ hasText: text }),
      async switchUser(next) {
        await page.getByTestId('user-switcher').selectOption(next);
        await expect.poll(() => page.locator('body').getAttribute('data-user')).toBe(next);
        await expect.poll(() => page.getByTestId('connection').textContent()).toBe('live');
      },
      async mentionBot(rest) {
        const composer = page.getByTestId('main-composer');
        await composer.click();
        await composer.pressSequentially('@har');
        await expect(await page.getByTestId('mention-option').first().textContent()).toContain('@harness');
        await composer.press('Enter');
        expect(await composer.inputValue()).toBe('@harness ');
        await composer.pressSequentially(rest);
        await composer.press('Enter');
      },
    };
    pages.push(wp);
    return wp;
  };

  return {
    local,
    world,
    browser,
    logs,
    open,
    assertNoPageErrors() {
      const all = pages.flatMap((p) => p.errors);
      expect(all).toEqual([]);
    },
    async newRunId(before) {
      return eventually(async () => (await runIds(world.dataDir)).find((id) => !before.has(id)), 'a new run');
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await local.stop();
      await world.cleanup();
    },
  };
}
