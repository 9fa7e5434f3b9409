/**
 * Issue D end to end: the example notes MCP server (examples/notes-mcp-server, a real child process
 * over stdio) configured in `mcp.servers`, the notes-keeper role, the real bot (Bolt, Socket Mode)
 * against the local Slack workspace. A destructive tool is gated in Slack and runs exactly once
 * after an approval and never after a rejection; read-only tools run without a gate; killing the
 * server mid-call gives the model a tool error, and the next call reconnects.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalSlack } from '../../../../src/local-workspace/server.ts';
import { ActionIds, ModalInputs } from '../../../../src/slack/blocks/action-ids.ts';
import {
  APPROVER1,
  APPROVER2,
  CHANNEL,
  REPO_ROOT,
  REQUESTER,
  botReplies,
  cards,
  eventually,
  postKey,
  readRun,
  runIds,
  startServer,
  startTestBot,
  type TestBot,
  type TmpWorld,
} from '../../slack/support/rig.ts';

const SERVER_SCRIPT = join(REPO_ROOT, 'examples', 'notes-mcp-server', 'server.mjs');

interface NotesWorld extends TmpWorld {
  notesDir: string;
}

async function makeNotesWorld(): Promise<NotesWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-notes-e2e-'));
  const notesDir = join(dir, 'notes');
  await mkdir(join(dir, 'workspace'), { recursive: true });
  const configPath = join(dir, 'config.yaml');
  await writeFile(
    configPath,
    [
      '# Written by test/integration/mcp/external/notes-gates.test.ts',
      'dataDir: data',
      'workspace: { root: workspace }',
      'model:',
      '  provider: scripted',
      `  scenarios: ${JSON.stringify(join(REPO_ROOT, 'scenarios', 'default.yaml'))}`,
      '  maxRetries: 0',
      'roles:',
      `  dir: ${JSON.stringify(join(REPO_ROOT, 'roles'))}`,
      '  default: notes-keeper',
      'policy:',
      '  categories: { read_only: allow, unknown: approve }',
      `  approvers: { default: [${APPROVER1}, ${APPROVER2}] }`,
      '  fourEyes: true',
      'mcp:',
      '  servers:',
      '    - name: notes',
      '      stdio:',
      `        command: ${JSON.stringify(process.execPath)}`,
      `        args: [${JSON.stringify(SERVER_SCRIPT)}, --dir, ${JSON.stringify(notesDir)}]`,
      '      timeoutMs: 10000',
      'logLevel: debug',
    ].join('\n'),
  );
  return { dir, configPath, dataDir: join(dir, 'data'), workspaceRoot: join(dir, 'workspace'), notesDir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface Note {
  id: string;
  title: string;
}

async function seedNotes(world: NotesWorld, notes: readonly Note[]): Promise<void> {
  await mkdir(world.notesDir, { recursive: true });
  const full = notes.map((n) => ({ ...n, body: `about ${n.title}`, createdAt: '2026-01-01T00:00:00.000Z' }));
  await writeFile(join(world.notesDir, 'notes.json'), JSON.stringify({ nextId: 100, notes: full }));
  await rm(join(world.notesDir, 'calls.jsonl'), { force: true });
}

async function noteIds(world: NotesWorld): Promise<string[]> {
  const state = JSON.parse(await readFile(join(world.notesDir, 'notes.json'), 'utf8')) as { notes: Note[] };
  return state.notes.map((n) => n.id);
}

async function serverCalls(world: NotesWorld): Promise<{ tool: string; args: Record<string, unknown> }[]> {
  const file = join(world.notesDir, 'calls.jsonl');
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { tool: string; args: Record<string, unknown> });
}

describe('e2e: external MCP tools behind policy and Slack gates', () => {
  let server: LocalSlack;
  let world: NotesWorld;
  let bot: TestBot;

  beforeAll(async () => {
    server = await startServer();
    world = await makeNotesWorld();
    await seedNotes(world, [
      { id: 'n1', title: 'Standup' },
      { id: 'n2', title: 'Retro' },
    ]);
    bot = await startTestBot(world, server);
  });

  afterAll(async () => {
    await bot?.stop();
    await server?.close();
    await world?.cleanup();
  });

  /** Mentions the bot and resolves with the new thread and run id. */
  async function mention(text: string): Promise<{ thread: string; runId: string }> {
    const before = new Set(await runIds(world.dataDir));
    const posted = await server.postUserMessage(REQUESTER, CHANNEL, `<@U_BOT> ${text}`);
    const runId = await eventually(async () => (await runIds(world.dataDir)).find((id) => !before.has(id)), 'the new run');
    return { thread: posted.message.ts, runId };
  }

  function result(thread: string): Promise<string> {
    return eventually(() => botReplies(server, CHANNEL, thread).find((m) => postKey(m) === 'result')?.text, 'the result', 30_000);
  }

  it('runs read-only tools of the external server without a gate', async () => {
    const { thread, runId } = await mention('notebook overview');
    expect(await result(thread)).toContain('The notebook starts with n1: Standup');
    expect(cards(server, CHANNEL, thread)).toEqual([]);
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates).toEqual([]);
    const ok = doc.trace.filter((e) => e.event === 'tool_ok').map((e) => (e.detail as { tool?: string }).tool);
    expect(ok).toEqual(['notes__list_notes', 'notes__read_note']);
    const checked = doc.trace.filter((e) => e.event === 'policy_checked').map((e) => e.detail as { tool?: string; decision?: string; category?: string });
    expect(checked).toEqual([
      expect.objectContaining({ tool: 'notes__list_notes', decision: 'allow', category: 'read_only' }),
      expect.objectContaining({ tool: 'notes__read_note', decision: 'allow', category: 'read_only' }),
    ]);
  });

  it('gates a destructive tool in Slack; after approval the call runs exactly once', async () => {
    await seedNotes(world, [
      { id: 'n1', title: 'Standup' },
      { id: 'n2', title: 'Retro' },
    ]);
    const { thread, runId } = await mention('notebook cleanup');
    const card = await eventually(() => cards(server, CHANNEL, thread)[0], 'the gate card', 30_000);
    expect(JSON.stringify(card.blocks)).toContain('notes__delete_note');
    await eventually(async () => ((await readRun(world.dataDir, runId)).run.gates[0]?.card === null ? undefined : true), 'the card record');
    const waiting = await readRun(world.dataDir, runId);
    expect(waiting.run.status).toBe('waiting_approval');
    expect(waiting.run.gates[0]).toMatchObject({ tool: 'notes__delete_note', args: { id: 'n1' }, category: 'unknown', risk: 'irreversible', status: 'pending' });
    // Nothing ran before the decision.
    expect(await noteIds(world)).toEqual(['n1', 'n2']);
    expect(await serverCalls(world)).toEqual([]);

    await server.clickButton(APPROVER1, CHANNEL, card.ts, ActionIds.approve);
    expect(await result(thread)).toContain('Deleted note n1.');
    expect(await noteIds(world)).toEqual(['n2']);
    expect(await serverCalls(world)).toEqual([{ tool: 'delete_note', args: { id: 'n1' }, at: expect.any(String), pid: expect.any(Number) }]);
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.status).toBe('completed');
    expect(doc.run.gates[0]).toMatchObject({ status: 'approved', decidedBy: APPROVER1 });
    expect(doc.trace.filter((e) => e.event === 'tool_start' && (e.detail as { tool?: string }).tool === 'notes__delete_note')).toHaveLength(1);
    expect(server.unexpectedCalls).toEqual([]);
  });

  it('after a rejection the destructive call never runs and the model is told why', async () => {
    await seedNotes(world, [
      { id: 'n1', title: 'Standup' },
      { id: 'n2', title: 'Retro' },
    ]);
    const { thread, runId } = await mention('notebook cleanup');
    const card = await eventually(() => cards(server, CHANNEL, thread)[0], 'the gate card', 30_000);
    const opened = server.calls('views.open').length;
    await server.clickButton(APPROVER2, CHANNEL, card.ts, ActionIds.reject);
    const call = await eventually(() => server.calls('views.open')[opened], 'the reject modal');
    const viewId = (call.response as { view: { id: string } }).view.id;
    const field = ModalInputs.rejectReason;
    await server.submitView(APPROVER2, viewId, { [field.blockId]: { [field.actionId]: 'we still need the standup notes' } });

    expect(await result(thread)).toContain('I did not delete the note');
    const doc = await readRun(world.dataDir, runId);
    expect(doc.run.gates[0]).toMatchObject({ status: 'rejected', decidedBy: APPROVER2, decisionReason: 'we still need the standup notes' });
    expect(doc.trace.some((e) => e.event === 'tool_start' && (e.detail as { tool?: string }).tool === 'notes__delete_note')).toBe(false);
    expect(await noteIds(world)).toEqual(['n1', 'n2']);
    expect(await serverCalls(world)).toEqual([]);
  });

  it('killing the server mid-call is a tool error for the model; the next call reconnects', async () => {
    await seedNotes(world, [{ id: 'n7', title: 'Planning' }]);
    // The server's test hook: the process exits in the middle of the next list_notes call.
    await writeFile(join(world.notesDir, 'fault'), 'crash list_notes\n');
    const first = await mention('notebook overview');
    const text = await result(first.thread);
    expect(text).toContain('I could not read the notebook');
    expect(text).toContain('MCP server "notes" exited or closed the connection during list_notes');
    const failed = await readRun(world.dataDir, first.runId);
    expect(failed.run.status).toBe('completed');
    expect(failed.trace.find((e) => e.event === 'tool_error')?.detail).toMatchObject({ tool: 'notes__list_notes' });
    expect(existsSync(join(world.notesDir, 'fault'))).toBe(false);

    const second = await mention('notebook overview');
    expect(await result(second.thread)).toContain('The notebook starts with n7: Planning');
    expect((await readRun(world.dataDir, second.runId)).run.status).toBe('completed');
  });
});
