import { describe, expect, it } from 'vitest';
import { indexChanged, indexEntryOf, parseIndexText, selectEntries } from '../../../src/store/run-index.ts';
import type { RunIndexEntry } from '../../../src/store/run-schema.ts';
import { makeRunDoc, RUN_DOC_TIME } from '../../support/run-doc-factory.ts';
import { makeGate } from './run-store-contract.ts';

const entry = (runId: string, overrides: Partial<RunIndexEntry> = {}): RunIndexEntry => ({
  ...indexEntryOf(makeRunDoc({ run: { runId } })),
  ...overrides,
});
const header = (entries: number) => JSON.stringify({ index: 'runs', version: 1, compactedAt: 1, entries });
const line = (e: RunIndexEntry) => JSON.stringify(e);

describe('run index', () => {
  it('derives the listing fields from a run document, counting pending gates only', () => {
    const doc = makeRunDoc({ run: { runId: 'r_a', gates: [makeGate('r_a'), makeGate('r_a', { gateId: 'g_2', status: 'rejected' })] } });
    expect(indexEntryOf(doc)).toEqual({
      runId: 'r_a',
      status: 'running',
      role: 'writer',
      task: 'write a short report',
      parentRunId: null,
      createdAt: RUN_DOC_TIME,
      updatedAt: RUN_DOC_TIME,
      pendingGates: 1,
    });
  });

  it('counts a change only in a listing field other than updatedAt', () => {
    const a = entry('r_a');
    expect(indexChanged(undefined, a)).toBe(true);
    expect(indexChanged(a, { ...a, updatedAt: a.updatedAt + 1 })).toBe(false);
    expect(indexChanged(a, { ...a, status: 'completed' })).toBe(true);
    expect(indexChanged(a, { ...a, pendingGates: 1 })).toBe(true);
  });

  it('splits head and tail at the count in the header', () => {
    const text = `${header(1)}\n${line(entry('r_a'))}\n${line(entry('r_b'))}\n${line(entry('r_a', { status: 'completed' }))}\n`;
    const parsed = parseIndexText(text);
    expect([...parsed.head.keys()]).toEqual(['r_a']);
    expect(parsed.tail.map((e) => [e.runId, e.status])).toEqual([
      ['r_b', 'running'],
      ['r_a', 'completed'],
    ]);
    expect(parsed.torn).toBe(false);
  });

  it('ignores a partial last line, even one that happens to parse', () => {
    expect(parseIndexText(`${header(0)}\n${line(entry('r_a'))}`)).toMatchObject({ torn: true, tail: [] });
    expect(parseIndexText(`${header(0)}\n{"runId":"r_`)).toMatchObject({ torn: true, tail: [] });
  });

  it.each([
    ['empty file', ''],
    ['no header', `${line(entry('r_a'))}\n`],
    ['short head', `${header(2)}\n${line(entry('r_a'))}\n`],
    ['bad middle line', `${header(0)}\nnope\n${line(entry('r_a'))}\n`],
    ['extra key', `${header(0)}\n${JSON.stringify({ ...entry('r_a'), x: 1 })}\n`],
    ['__proto__ key', `${header(0)}\n${line(entry('r_a')).replace('{', '{"__proto__":{},')}\n`],
  ])('refuses an index with %s (it is then rebuilt)', (_name, text) => {
    expect(() => parseIndexText(text)).toThrow();
  });

  it('selects newest first, ties broken by run id, and returns copies', () => {
    const entries = [entry('r_a', { createdAt: 1 }), entry('r_c', { createdAt: 2 }), entry('r_b', { createdAt: 2 })];
    const out = selectEntries(entries);
    expect(out.map((e) => e.runId)).toEqual(['r_c', 'r_b', 'r_a']);
    out[0]!.status = 'failed';
    expect(entries[1]?.status).toBe('running');
  });
});
