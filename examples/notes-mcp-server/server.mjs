#!/usr/bin/env node
/**
 * notes-mcp-server: a small MCP server over stdio, written with the official SDK, that keeps notes
 * in a JSON file. It is the example external server of slack-harness (docs/architecture/
 * mcp-external.md): the `notes-keeper` role uses it, and the integration tests drive it.
 *
 *   node examples/notes-mcp-server/server.mjs --dir data/notes
 *
 * Tools and their annotations (which is what the harness derives a policy category from):
 *   list_notes   readOnlyHint      → read_only, runs without a gate
 *   read_note    readOnlyHint      → read_only, runs without a gate
 *   add_note     (no hint)         → unknown, gated
 *   delete_note  destructiveHint   → unknown / irreversible, gated
 *
 * Files in the notes folder (`--dir`, else NOTES_DIR, else ./data/notes; created on the first write):
 *   notes.json   the notes, rewritten atomically (temp file + rename) after every change
 *   calls.jsonl  one line per add_note / delete_note that ran (what the tests count)
 *   fault        test hook: a line `crash <tool>` makes the process exit in the middle of the next
 *                call of <tool>; `hang <tool>` makes that call never answer. The file is deleted
 *                when the fault fires, so the next process (after the harness reconnects) is healthy.
 *
 * Written in plain JavaScript so that any MCP client can start it with `node` alone.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const { values } = parseArgs({ options: { dir: { type: 'string' } }, strict: true });
const dir = resolve(values.dir ?? process.env.NOTES_DIR ?? join('data', 'notes'));
const notesFile = join(dir, 'notes.json');
const callsFile = join(dir, 'calls.jsonl');
const faultFile = join(dir, 'fault');

/** @returns {{ nextId: number, notes: { id: string, title: string, body: string, createdAt: string }[] }} */
function load() {
  if (!existsSync(notesFile)) return { nextId: 1, notes: [] };
  return JSON.parse(readFileSync(notesFile, 'utf8'));
}

function save(state) {
  mkdirSync(dir, { recursive: true });
  const temp = `${notesFile}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`, { flush: true });
  renameSync(temp, notesFile);
}

function recordCall(tool, args) {
  mkdirSync(dir, { recursive: true });
  appendFileSync(callsFile, `${JSON.stringify({ tool, args, at: new Date().toISOString(), pid: process.pid })}\n`);
}

/** The test hook: crash or hang inside a call of `tool` when the fault file asks for it. */
async function maybeFault(tool) {
  if (!existsSync(faultFile)) return;
  const [action, target] = readFileSync(faultFile, 'utf8').trim().split(/\s+/);
  if (target !== tool) return;
  rmSync(faultFile, { force: true });
  if (action === 'crash') process.exit(70);
  if (action === 'hang') await new Promise(() => setInterval(() => undefined, 60_000));
}

function text(value) {
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
}

function failure(message) {
  return { content: [{ type: 'text', text: message }], isError: true };
}

const server = new McpServer({ name: 'notes', version: '1.0.0' });
const noteId = z.string().regex(/^n[0-9]{1,9}$/).describe('a note id such as n1');

server.registerTool(
  'list_notes',
  {
    description: 'List every note: id and title.',
    inputSchema: {},
    annotations: { title: 'List notes', readOnlyHint: true, openWorldHint: false },
  },
  async () => {
    await maybeFault('list_notes');
    return text({ notes: load().notes.map(({ id, title }) => ({ id, title })) });
  },
);

server.registerTool(
  'read_note',
  {
    description: 'Read one note by id.',
    inputSchema: { id: noteId },
    annotations: { title: 'Read a note', readOnlyHint: true, openWorldHint: false },
  },
  async ({ id }) => {
    await maybeFault('read_note');
    const note = load().notes.find((n) => n.id === id);
    return note === undefined ? failure(`no note ${id}`) : text(note);
  },
);

server.registerTool(
  'add_note',
  {
    description: 'Add a note with a title and a body. Returns its id.',
    inputSchema: { title: z.string().min(1).max(200), body: z.string().max(10_000) },
    annotations: { title: 'Add a note', openWorldHint: false },
  },
  async ({ title, body }) => {
    await maybeFault('add_note');
    const state = load();
    const note = { id: `n${state.nextId}`, title, body, createdAt: new Date().toISOString() };
    save({ nextId: state.nextId + 1, notes: [...state.notes, note] });
    recordCall('add_note', { title });
    return text({ added: note.id });
  },
);

server.registerTool(
  'delete_note',
  {
    description: 'Delete a note by id. This cannot be undone.',
    inputSchema: { id: noteId },
    annotations: { title: 'Delete a note', destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  async ({ id }) => {
    await maybeFault('delete_note');
    const state = load();
    if (!state.notes.some((n) => n.id === id)) return failure(`no note ${id}`);
    save({ ...state, notes: state.notes.filter((n) => n.id !== id) });
    recordCall('delete_note', { id });
    return text({ deleted: id });
  },
);

await server.connect(new StdioServerTransport());
