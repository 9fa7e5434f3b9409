/**
 * Issue E acceptance, "PM flow from C", in a real browser (the local workspace `npm start` serves,
 * the real bot over Socket Mode, the scripted model, Debian's Chromium via playwright-core):
 *
 * - The PM user mentions the bot with a team task → the thread shows the PM's status message and
 *   one post per sub-agent (researcher and writer), and the writer's gate card naming its lineage
 *   `pm → writer`. Every text the page shows for each post is recorded as it changes, so "updates
 *   live" is asserted on what the browser rendered (an earlier state, then later ones), not on the
 *   store.
 * - An approver kills the waiting writer from its post's Kill button, through the confirm dialog →
 *   the post says "Killed by …" and loses its button; the stored run is cancelled; the PM answers.
 * - Approving the writer's card instead → the writer's post turns from waiting to finished and the
 *   PM's final answer lands in the thread.
 * Every step is screenshotted; no page logs a console error.
 *
 * The bot posts each sub-agent at its draft (`subagentPostDelayMs: 0`, as the Slack-level test in
 * test/integration/slack/e2e/subagents.test.ts does): with the default one-second window, the
 * scripted researcher ends inside the window and is only summarised in the PM's status message,
 * so there would be no researcher post whose live updates a browser could see.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { People, eventually, readRun, runIds, startBrowserRig, type BrowserRig, type WorkspacePage } from './support/browser-rig.ts';

const PM_TASK = 'pm: prepare a report on durable execution with your team';
const WRITER_CARD = 'pm → writer wants workspace_write';
const RESEARCHER_POST = 'Sub-agent researcher';
const WRITER_POST = 'Sub-agent writer';
const PM_STATUS = /Sub-agents \(2\)/;

/**
 * Installed in the page: for every message of the thread pane (by `data-ts`), the distinct texts it
 * showed, in order. The UI rebuilds a message element when its content changes (`syncList`), so a
 * mutation observer on the document sees each version.
 */
const RECORDER = `(() => {
  const seen = new Map();
  const scan = () => {
    for (const el of document.querySelectorAll('[data-testid="thread-list"] [data-testid="message"]')) {
      const ts = el.getAttribute('data-ts');
      const text = el.textContent ?? '';
      const versions = seen.get(ts) ?? [];
      if (versions.at(-1) !== text) versions.push(text);
      seen.set(ts, versions);
    }
  };
  new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  scan();
  window.__threadHistory = () => Object.fromEntries(seen);
})()`;

/** The texts one thread message showed, oldest first. */
async function historyOf(wp: WorkspacePage, ts: string): Promise<string[]> {
  const all = (await wp.page.evaluate('window.__threadHistory()')) as Record<string, string[]>;
  return all[ts] ?? [];
}

/** Asserts that the message showed a version matching each of `states`, in this order (each a later version). */
function expectShownInOrder(versions: readonly string[], ...states: RegExp[]): void {
  let at = -1;
  for (const state of states) {
    const found = versions.findIndex((text, i) => i > at && state.test(text));
    expect(found, `no version after #${String(at)} matching ${String(state)} in:\n${versions.join('\n---\n')}`).toBeGreaterThan(at);
    at = found;
  }
}

describe('e2e (browser): a PM and its sub-agents', () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startBrowserRig({ subagentPostDelayMs: 0 });
  });

  afterEach(() => {
    rig.assertNoPageErrors();
  });

  afterAll(async () => {
    await rig?.close();
  });

  /**
   * As the PM user, mentions the bot with the team task (the thread opens on it), and resolves once
   * the thread shows the PM's status, both sub-agent posts and the writer's card.
   */
  async function startPm(wp: WorkspacePage): Promise<{ pmId: string; researcherId: string; writerId: string; researcherTs: string; writerTs: string; statusTs: string }> {
    await wp.page.evaluate(RECORDER);
    const before = new Set(await runIds(rig.world.dataDir));
    await wp.mentionBot(PM_TASK);

    const root = wp.page.getByTestId('message-list').getByTestId('message').filter({ hasText: PM_TASK });
    await expect.poll(() => root.locator('[data-testid="reaction"][data-name="eyes"]').count(), { timeout: 15_000 }).toBe(1);
    // The thread pane opened on the task.
    await expect.poll(() => wp.threadMessage(PM_TASK).count()).toBe(1);

    const pmId = await eventually(async () => {
      for (const id of await runIds(rig.world.dataDir)) {
        if (before.has(id)) continue;
        if ((await readRun(rig.world.dataDir, id)).run.parentRunId === null) return id;
      }
      return undefined;
    }, 'the PM run');
    const pm = await readRun(rig.world.dataDir, pmId);
    expect(pm.run).toMatchObject({ role: 'pm', requestedBy: { userId: People.pm, source: 'slack' } });
    const children = await eventually(async () => {
      const doc = await readRun(rig.world.dataDir, pmId);
      return doc.run.children.length === 2 ? doc.run.children : undefined;
    }, 'two drafted sub-agents', 30_000);
    const [researcherId, writerId] = [children[0]!, children[1]!];
    expect((await readRun(rig.world.dataDir, researcherId)).run.role).toBe('researcher');
    expect((await readRun(rig.world.dataDir, writerId)).run.role).toBe('writer');

    // The PM's one status message summarises the tree; each sub-agent has its own post.
    const status = wp.threadMessage(PM_STATUS);
    await expect.poll(() => status.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => wp.threadMessage(RESEARCHER_POST).count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => wp.threadMessage(WRITER_POST).count(), { timeout: 20_000 }).toBe(1);
    expect(await wp.threadMessage(RESEARCHER_POST).innerText()).toContain('Lineage: pm → researcher');
    expect(await wp.threadMessage(WRITER_POST).innerText()).toContain('Lineage: pm → writer');

    // The writer's gate card, in the same thread, names whose call it is.
    const card = wp.threadMessage(WRITER_CARD);
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(1);
    for (const label of ['Approve', 'Reject', 'Edit arguments']) {
      await expect.poll(() => card.getByRole('button', { name: label, exact: true }).count()).toBe(1);
    }
    await expect.poll(() => wp.threadMessage(WRITER_POST).innerText(), { timeout: 20_000 }).toMatch(/Waiting for approval of workspace_write/);
    await expect.poll(() => wp.threadMessage(RESEARCHER_POST).innerText(), { timeout: 20_000 }).toMatch(/Finished\./);
    await expect.poll(() => status.innerText(), { timeout: 20_000 }).toMatch(/writer — .*waiting for workspace_write/i);

    const tsOf = async (text: string | RegExp): Promise<string> => {
      const ts = await wp.threadMessage(text).getAttribute('data-ts');
      if (ts === null) throw new Error(`no data-ts on the thread message ${String(text)}`);
      return ts;
    };
    return { pmId, researcherId, writerId, researcherTs: await tsOf(RESEARCHER_POST), writerTs: await tsOf(WRITER_POST), statusTs: await tsOf(PM_STATUS) };
  }

  it('two sub-agent posts update live; an approver kills the waiting writer from its post', async () => {
    const wp = await rig.open('pm kill subagent', People.pm);
    const { page } = wp;
    await wp.shot('empty-channel');
    const tree = await startPm(wp);
    await wp.threadMessage(RESEARCHER_POST).scrollIntoViewIfNeeded();
    await wp.shot('pm-thread-with-subagents');

    // Both posts were shown in an early state first, then changed in place; so did the PM's status.
    expectShownInOrder(await historyOf(wp, tree.researcherTs), /Sub-agent researcher · (queued|running)/, /Sub-agent researcher · completed.*Finished\./);
    expectShownInOrder(await historyOf(wp, tree.writerTs), /Sub-agent writer · (queued|running)/, /Sub-agent writer · waiting for approval.*Waiting for approval of workspace_write/);
    expectShownInOrder(await historyOf(wp, tree.statusTs), /pm · (queued|running)/, /Sub-agents \(2\).*researcher — completed/);

    // An approver takes over and kills the writer through the confirm dialog.
    await wp.switchUser(People.approver1);
    const writerPost = wp.threadMessage(WRITER_POST);
    await expect.poll(() => writerPost.getByRole('button', { name: 'Kill', exact: true }).count()).toBe(1);
    await writerPost.getByRole('button', { name: 'Kill', exact: true }).click();
    const dialog = page.getByTestId('confirm-dialog');
    await expect.poll(() => dialog.count()).toBe(1);
    expect(await dialog.innerText()).toContain('Kill this sub-agent?');
    await wp.shot('kill-confirm-dialog');
    await page.getByTestId('confirm-ok').click();

    await expect.poll(() => writerPost.innerText(), { timeout: 20_000 }).toContain(`Killed by ${People.approver1}`);
    await expect.poll(() => writerPost.getByRole('button', { name: 'Kill', exact: true }).count()).toBe(0);
    await writerPost.scrollIntoViewIfNeeded();
    await wp.shot('writer-post-killed');
    // The killed writer's card offers no decision any more.
    const card = wp.threadMessage(WRITER_CARD);
    await expect.poll(() => card.getByRole('button').count(), { timeout: 20_000 }).toBe(0);
    // The PM learns of it and answers in the thread.
    const answer = wp.threadMessage(/Done\. The researcher \(completed\)/);
    await expect.poll(() => answer.count(), { timeout: 30_000 }).toBe(1);
    expect(await answer.innerText()).toContain('The writer (cancelled)');
    await answer.scrollIntoViewIfNeeded();
    await wp.shot('pm-answered-after-kill');

    expectShownInOrder(await historyOf(wp, tree.writerTs), /Sub-agent writer · (queued|running)/, /Waiting for approval of workspace_write/, /Sub-agent writer · cancelled.*Killed by U_APPROVER1/);

    const killed = await readRun(rig.world.dataDir, tree.writerId);
    expect(killed.run.status).toBe('cancelled');
    expect(killed.run.gates[0]?.status).not.toBe('approved');
    expect(killed.trace.find((e) => e.event === 'run_cancelled')?.detail).toMatchObject({ by: People.approver1 });
    const pm = await readRun(rig.world.dataDir, tree.pmId);
    expect(pm.trace.find((e) => e.event === 'subagent_killed')?.detail).toMatchObject({ childRunId: tree.writerId, by: People.approver1, source: 'slack' });
    expect((await readRun(rig.world.dataDir, tree.researcherId)).run.status).toBe('completed');
    expect(rig.local.server.unexpectedCalls).toEqual([]);
  });

  it('approving the writer’s card instead: the writer finishes and the PM’s final answer lands', async () => {
    const wp = await rig.open('pm approve writer', People.pm);
    const tree = await startPm(wp);
    await wp.shot('writer-waiting');

    await wp.switchUser(People.approver2);
    const card = wp.threadMessage(WRITER_CARD);
    await card.getByRole('button', { name: 'Approve', exact: true }).click();
    await expect.poll(() => wp.page.getByTestId('confirm-dialog').count()).toBe(1);
    await wp.page.getByTestId('confirm-ok').click();

    await expect.poll(() => wp.threadMessage(/Approved by U_APPROVER2/).count(), { timeout: 20_000 }).toBe(1);
    const answer = wp.threadMessage(/Done\. The researcher \(completed\)/);
    await expect.poll(() => answer.count(), { timeout: 30_000 }).toBe(1);
    expect(await answer.innerText()).toContain('The writer (completed)');
    const writerPost = wp.threadMessage(WRITER_POST);
    await expect.poll(() => writerPost.innerText(), { timeout: 20_000 }).toContain('Finished.');
    expect(await writerPost.getByRole('button', { name: 'Kill', exact: true }).count()).toBe(0);
    await wp.shot('pm-answered');

    expectShownInOrder(await historyOf(wp, tree.writerTs), /Sub-agent writer · (queued|running)/, /Waiting for approval of workspace_write/, /Sub-agent writer · completed.*Finished\./);
    expect((await readRun(rig.world.dataDir, tree.writerId)).run).toMatchObject({ status: 'completed' });
    expect((await readRun(rig.world.dataDir, tree.writerId)).run.gates[0]).toMatchObject({ status: 'approved', decidedBy: People.approver2, lineage: ['pm', 'writer'] });
    expect((await readRun(rig.world.dataDir, tree.pmId)).run.status).toBe('completed');
    expect(rig.local.server.unexpectedCalls).toEqual([]);
  });
});
