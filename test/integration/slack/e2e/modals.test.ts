/**
 * The card's modals end to end: Reject asks for a reason (blank → the form says so and stays
 * open), then the run continues with the reason as the tool result; Edit arguments shows the JSON,
 * refuses invalid JSON and arguments policy denies in the form itself, and approves valid edits
 * (recorded with their new hash, executed as edited); View all shows the arguments to anyone in the
 * workspace and decides nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds, CallbackIds, ModalInputs } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  APPROVER2,
  CHANNEL,
  botReplies,
  eventually,
  forgeClick,
  makeWorld,
  mentionUntilCard,
  postKey,
  readRun,
  reports,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../support/rig.ts';

describe('e2e: reject, edit and view-all modals', () => {
  let server: LocalSlack;
  let world: TmpWorld;
  let bot: TestBot;

  beforeAll(async () => {
    server = await startServer();
    world = await makeWorld();
    bot = await startTestBot(world, server);
  });

  afterAll(async () => {
    await bot.stop();
    await server.close();
    await world.cleanup();
  });

  async function openModal(user: string, cardTs: string, actionId: string): Promise<string> {
    const opened = server.calls('views.open').length;
    await server.clickButton(user, CHANNEL, cardTs, actionId);
    const call = await eventually(() => server.calls('views.open')[opened], 'the modal');
    return (call.response as { view: { id: string } }).view.id;
  }

  it('rejects with a required reason; the agent continues with it', async () => {
    const { runId, card, thread } = await mentionUntilCard(server, world);
    const viewId = await openModal(APPROVER2, card.ts, ActionIds.reject);
    expect(server.state.getView(viewId)?.definition).toMatchObject({ callback_id: CallbackIds.rejectModal });
    const field = ModalInputs.rejectReason;

    const blank = await server.submitView(APPROVER2, viewId, { [field.blockId]: { [field.actionId]: '   ' } });
    expect(blank.responseAction).toBe('errors');
    expect(blank.view.open).toBe(true);
    expect((await readRun(world.dataDir, runId)).run.gates[0]?.status).toBe('pending');

    const done = await server.submitView(APPROVER2, viewId, { [field.blockId]: { [field.actionId]: 'keep it in notes/ instead' } });
    expect(done.responseAction).toBeUndefined();
    expect(done.view.open).toBe(false);

    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.gates[0]).toMatchObject({ status: 'rejected', decidedBy: APPROVER2, decisionReason: 'keep it in notes/ instead', decisionSource: 'slack' });
    expect(doc.run.status).toBe('completed');
    expect(await reports(world)).toEqual([]);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('approves edited arguments after refusing invalid JSON and a path policy denies, in the form', async () => {
    const { runId, card, thread } = await mentionUntilCard(server, world);
    const viewId = await openModal(APPROVER1, card.ts, ActionIds.edit);
    const field = ModalInputs.editArgs;
    const submit = (text: string) => server.submitView(APPROVER1, viewId, { [field.blockId]: { [field.actionId]: text } });

    const notJson = await submit('{"path": ');
    expect(notJson.responseAction).toBe('errors');
    expect(notJson.view.errors?.[field.blockId]).toMatch(/^Not valid JSON/);
    const denied = await submit(JSON.stringify({ path: 'notes/edited.md', content: '# edited\n' }));
    expect(denied.responseAction).toBe('errors');
    expect(denied.view.errors?.[field.blockId]).toContain('denied by policy');
    expect((await readRun(world.dataDir, runId)).run.gates[0]?.status).toBe('pending');

    const ok = await submit(JSON.stringify({ path: 'reports/edited.md', content: '# Edited by an approver\n' }));
    expect(ok.view.open).toBe(false);
    await eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result'), 'the result');
    const gate = (await readRun(world.dataDir, runId)).run.gates[0]!;
    expect(gate).toMatchObject({ status: 'approved', decidedBy: APPROVER1, editedArgs: { path: 'reports/edited.md', content: '# Edited by an approver\n' } });
    expect(gate.approvedHash).not.toBe(gate.argsHash);
    expect(await reports(world)).toEqual(['edited.md']);
    expect(await readFile(join(world.workspaceRoot, 'reports', 'edited.md'), 'utf8')).toBe('# Edited by an approver\n');
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('publishes the App Home on open, and its View all button shows the arguments without deciding', async () => {
    const { runId } = await mentionUntilCard(server, world);
    await server.openAppHome(APPROVER1);
    const home = await eventually(() => {
      const view = server.state.homeOf(APPROVER1);
      return view !== undefined && JSON.stringify(view.definition.blocks).includes(runId) ? view : undefined;
    }, 'the App Home');
    const opened = server.calls('views.open').length;
    await server.clickViewButton(APPROVER1, home.id, ActionIds.viewArgs);
    const call = await eventually(() => server.calls('views.open')[opened], 'the arguments modal');
    const view = (call.response as { view: { id: string } }).view;
    const modal = server.state.getView(view.id)!;
    expect(modal.definition).toMatchObject({ callback_id: CallbackIds.argsModal });
    expect(JSON.stringify(modal.definition.blocks)).toContain('reports/');
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.gates[0]?.status).toBe('pending');
    expect(doc.trace.some((e) => e.event === 'approval_refused')).toBe(false);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('tells a refused App Home click in a DM (there is no channel for an ephemeral)', async () => {
    const { runId } = await mentionUntilCard(server, world);
    await server.openAppHome(APPROVER2);
    const home = await eventually(() => {
      const view = server.state.homeOf(APPROVER2);
      return view !== undefined && JSON.stringify(view.definition.blocks).includes(runId) ? view : undefined;
    }, 'the App Home');
    // The gate is decided elsewhere first; the Home button is now stale.
    const card = (await readRun(world.dataDir, runId)).run.gates[0]!.card!;
    await server.clickButton(APPROVER1, card.channel, card.ts, ActionIds.approve);
    await eventually(async () => ((await readRun(world.dataDir, runId)).run.gates[0]?.status === 'approved' ? true : undefined), 'the decision');
    const dm = server.state.ensureIm(APPROVER2).id;
    const before = server.state.history(dm).length;
    const value = staleValue(home.definition.blocks, runId);
    await forgeClick(server, { user: APPROVER2, channel: '', messageTs: '', viewId: home.id, actionId: ActionIds.approve, value });
    const message = await eventually(() => server.state.history(dm)[before], 'the DM');
    expect(message.text).toContain(`already approved by ${APPROVER1}`);
  });
});

/** The button value naming `runId`'s gate on a Home view as it was (the view has since been refreshed). */
function staleValue(blocks: unknown[], runId: string): string {
  for (const block of blocks as { type?: string; elements?: { value?: string }[] }[]) {
    const found = block.type === 'actions' ? block.elements?.find((e) => e.value?.includes(runId) === true) : undefined;
    if (found?.value !== undefined) return found.value;
  }
  throw new Error(`no button for ${runId}`);
}
