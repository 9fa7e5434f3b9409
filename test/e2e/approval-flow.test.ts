/**
 * Issue E acceptance, in a real browser: the local workspace `npm start` serves, the real bot
 * connected over Socket Mode, Debian's Chromium driven by playwright-core.
 *
 * - A requester mentions the bot (with @-completion) → the 👀 reaction, the live status message,
 *   the approval card; an approver approves (through the confirm dialog) → "Approved by …" and the
 *   result in the thread; the click reached the bot as Slack's `block_actions` payload.
 * - The requester approving their own request (four-eyes) → an ephemeral refusal; the card and
 *   the gate are unchanged.
 * - Reject with a reason in the modal → the model's reaction to the reason in the thread.
 * - Edit arguments in the modal → the edited call runs and the card records the edit.
 * - The bot restarts (the workspace and the page stay up) while a card is pending → Approve →
 *   the run completes.
 * Every step is screenshotted; no page logs a console error.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { People, REPORT_TASK, eventually, readRun, reports, runIds, startBrowserRig, type BrowserRig, type WorkspacePage } from './support/browser-rig.ts';

const CARD_HEADER = 'Approval needed: workspace_write';

describe('e2e (browser): mention → approval card → decision', () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startBrowserRig();
  });

  afterEach(() => {
    rig.assertNoPageErrors();
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** Mentions the bot as the page's user and resolves once the card is in the thread. */
  async function startTask(wp: WorkspacePage): Promise<{ runId: string }> {
    const before = new Set(await runIds(rig.world.dataDir));
    await wp.mentionBot(REPORT_TASK);
    await expect.poll(() => wp.threadMessage(CARD_HEADER).count(), { timeout: 20_000 }).toBe(1);
    const runId = await rig.newRunId(before);
    await eventually(async () => ((await readRun(rig.world.dataDir, runId)).run.gates[0]?.card === null ? undefined : true), 'the card record');
    return { runId };
  }

  async function clickCardButton(wp: WorkspacePage, label: string): Promise<void> {
    await wp.threadMessage(CARD_HEADER).getByRole('button', { name: label, exact: true }).click();
  }

  it('requester mentions the bot; an approver approves; the result lands in the thread', async () => {
    const wp = await rig.open('approve flow', People.requester);
    const { page } = wp;
    await wp.shot('empty-channel');
    const before = new Set(await runIds(rig.world.dataDir));

    // @-completion, then the task; the thread opens on the new message.
    const composer = page.getByTestId('main-composer');
    await composer.click();
    await composer.pressSequentially('@har');
    await expect.poll(() => page.getByTestId('mention-option').count()).toBe(1);
    await wp.shot('mention-completion', { docs: 'mention-completion.png' });
    await composer.press('Enter');
    await composer.pressSequentially(REPORT_TASK);
    await composer.press('Enter');

    const root = page.getByTestId('message-list').getByTestId('message').filter({ hasText: REPORT_TASK });
    await expect.poll(() => root.locator('.mention').first().textContent()).toBe('@harness');
    await expect.poll(() => root.locator('[data-testid="reaction"][data-name="eyes"]').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => wp.threadMessage(CARD_HEADER).count(), { timeout: 20_000 }).toBe(1);
    const status = wp.threadMessage(/Waiting for approval/i);
    await expect.poll(() => status.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const card = wp.threadMessage(CARD_HEADER);
    for (const label of ['Approve', 'Reject', 'Edit arguments']) {
      await expect.poll(() => card.getByRole('button', { name: label, exact: true }).count()).toBe(1);
    }
    await wp.shot('approval-card', { docs: 'approval-card.png' });
    const runId = await rig.newRunId(before);
    await eventually(async () => ((await readRun(rig.world.dataDir, runId)).run.gates[0]?.card === null ? undefined : true), 'the card record');

    // An approver takes over (same page, user switcher), and approves through the confirm dialog.
    await wp.switchUser(People.approver1);
    await expect.poll(() => wp.threadMessage(CARD_HEADER).count()).toBe(1);
    const deliveriesBefore = rig.local.server.deliveries().length;
    await clickCardButton(wp, 'Approve');
    const dialog = page.getByTestId('confirm-dialog');
    await expect.poll(() => dialog.count()).toBe(1);
    await wp.shot('confirm-dialog');
    await page.getByTestId('confirm-ok').click();

    const decided = wp.threadMessage(/Approved by U_APPROVER1/);
    await expect.poll(() => decided.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => decided.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    const result = wp.threadMessage(/Report written to reports\//);
    await expect.poll(() => result.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => root.locator('[data-testid="reaction"][data-name="white_check_mark"]').count(), { timeout: 15_000 }).toBe(1);
    await wp.shot('approved-and-result', { docs: 'approved.png' });

    // The click reached the bot as Slack's block_actions payload.
    const click = rig.local.server
      .deliveries()
      .slice(deliveriesBefore)
      .map((d) => d.payload as Record<string, unknown>)
      .find((p) => p['type'] === 'block_actions');
    expect(click).toMatchObject({
      type: 'block_actions',
      user: { id: People.approver1, team_id: 'T_LOCAL' },
      team: { id: 'T_LOCAL' },
      api_app_id: 'A_LOCAL',
      container: { type: 'message', channel_id: 'C_GENERAL', is_ephemeral: false },
      actions: [{ action_id: 'gate_approve', type: 'button' }],
    });
    expect(typeof click?.['trigger_id']).toBe('string');
    expect(JSON.parse((click?.['actions'] as { value: string }[])[0]!.value)).toMatchObject({ runId });

    const doc = await readRun(rig.world.dataDir, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: People.approver1, decisionSource: 'slack' });
    expect(await reports(rig.world)).toContain('durable-execution.md');
    expect(rig.local.server.unexpectedCalls).toEqual([]);
  });

  it('the requester approving their own request gets an ephemeral refusal; the card is unchanged', async () => {
    const wp = await rig.open('four eyes refusal', People.requester);
    const { runId } = await startTask(wp);
    const card = wp.threadMessage(CARD_HEADER);
    const cardBefore = await card.innerText();

    await clickCardButton(wp, 'Approve');
    await wp.page.getByTestId('confirm-ok').click();
    const refusal = wp.page.getByTestId('thread-list').getByTestId('ephemeral');
    await expect.poll(() => refusal.count(), { timeout: 15_000 }).toBe(1);
    expect(await refusal.innerText()).toMatch(/Not done/);
    expect(await refusal.innerText()).toContain('Only visible to you');
    await wp.shot('ephemeral-refusal', { docs: 'four-eyes-refusal.png' });

    expect(await card.innerText()).toBe(cardBefore);
    expect(await card.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(1);
    const doc = await readRun(rig.world.dataDir, runId);
    expect(doc.run.gates[0]?.status).toBe('pending');
    expect(doc.trace.some((e) => e.event === 'approval_refused')).toBe(true);

    // Nobody else sees the ephemeral.
    await wp.switchUser(People.approver2);
    await expect.poll(() => wp.threadMessage(CARD_HEADER).count()).toBe(1);
    expect(await wp.page.getByTestId('thread-list').getByTestId('ephemeral').count()).toBe(0);
  });

  it('rejecting with a reason in the modal: the thread shows the model reacting to the reason', async () => {
    const wp = await rig.open('reject with reason', People.requester);
    const { runId } = await startTask(wp);
    await wp.switchUser(People.approver2);
    await clickCardButton(wp, 'Reject');
    const modal = wp.page.getByTestId('modal');
    await expect.poll(() => modal.getAttribute('data-callback-id')).toBe('gate_reject_modal');

    // A blank reason is refused in the form, as Slack shows `response_action: errors`.
    const field = modal.locator('.bk-input');
    await field.fill('   ');
    await wp.page.getByTestId('modal-submit').click();
    await expect.poll(() => modal.locator('.bk-input-error').count()).toBe(1);
    await wp.shot('reject-modal-error');

    const reason = 'keep it in notes/ instead';
    await field.fill(reason);
    await wp.shot('reject-modal', { docs: 'reject-modal.png' });
    await wp.page.getByTestId('modal-submit').click();
    await expect.poll(() => modal.count()).toBe(0);

    await expect.poll(() => wp.threadMessage(/Rejected by U_APPROVER2/).count(), { timeout: 20_000 }).toBe(1);
    const reaction = wp.threadMessage(/I did not write the report/);
    await expect.poll(() => reaction.count(), { timeout: 20_000 }).toBe(1);
    expect(await reaction.innerText()).toContain(reason);
    await wp.shot('rejected');

    const doc = await readRun(rig.world.dataDir, runId);
    expect(doc.run.gates[0]).toMatchObject({ status: 'rejected', decidedBy: People.approver2, decisionReason: reason });
    expect(doc.run.status).toBe('completed');
  });

  it('editing the arguments in the modal: the edited call runs and the card records the edit', async () => {
    const wp = await rig.open('edit arguments', People.requester);
    const { runId } = await startTask(wp);
    await wp.switchUser(People.approver1);
    await clickCardButton(wp, 'Edit arguments');
    const modal = wp.page.getByTestId('modal');
    await expect.poll(() => modal.getAttribute('data-callback-id')).toBe('gate_edit_modal');
    const field = modal.locator('textarea.bk-input');
    const proposed = JSON.parse(await field.inputValue()) as { path: string };
    expect(proposed.path).toMatch(/^reports\//);

    const edited = { path: 'reports/edited-in-the-browser.md', content: '# Edited in the browser\n' };
    await field.fill(JSON.stringify(edited, null, 2));
    await wp.shot('edit-modal', { docs: 'edit-modal.png' });
    await wp.page.getByTestId('modal-submit').click();
    await expect.poll(() => modal.count()).toBe(0);

    const card = wp.threadMessage(/Edited by U_APPROVER1 then approved/);
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(1);
    expect(await card.innerText()).toContain('Approved arguments (edited)');
    expect(await card.innerText()).toContain(edited.path);
    await expect.poll(() => wp.threadMessage(/Report written to/).count(), { timeout: 20_000 }).toBe(1);
    await wp.shot('edited-and-approved');

    const gate = (await readRun(rig.world.dataDir, runId)).run.gates[0]!;
    expect(gate).toMatchObject({ status: 'approved', decidedBy: People.approver1, editedArgs: edited });
    expect(gate.approvedHash).not.toBe(gate.argsHash);
    expect(await readFile(join(rig.world.workspaceRoot, 'reports', 'edited-in-the-browser.md'), 'utf8')).toBe(edited.content);
  });

  it('the bot restarts while a card is pending (the workspace and the page stay up); Approve completes the run', async () => {
    const wp = await rig.open('restart while pending', People.requester);
    const { runId } = await startTask(wp);
    const opensBefore = rig.local.server.calls('apps.connections.open').length;

    const oldBot = rig.local.bot;
    await rig.local.restartBot();
    expect(rig.local.bot).not.toBe(oldBot);
    await eventually(() => (rig.local.server.calls('apps.connections.open').length > opensBefore && rig.local.server.socket.connectionCount === 1 ? true : undefined), 'the new bot connected');
    await expect.poll(() => wp.page.getByTestId('connection').textContent()).toBe('live');

    await wp.switchUser(People.approver2);
    await clickCardButton(wp, 'Approve');
    await wp.page.getByTestId('confirm-ok').click();
    await expect.poll(() => wp.threadMessage(/Approved by U_APPROVER2/).count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => wp.threadMessage(/Report written to reports\//).count(), { timeout: 20_000 }).toBe(1);
    await wp.shot('approved-after-restart');

    const doc = await readRun(rig.world.dataDir, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: People.approver2 });
  });
});
