import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StoreCorruptError } from '../../../src/shared/errors.ts';
import { RUN_DOC_MIGRATIONS, migrateRunDoc } from '../../../src/store/migrations.ts';
import { RUN_SCHEMA_VERSION, RunDoc } from '../../../src/store/run-schema.ts';
import { makeRunDoc } from '../../support/run-doc-factory.ts';

const fixture = (path: string): unknown => JSON.parse(readFileSync(new URL(`../../fixtures/store/${path}`, import.meta.url), 'utf8'));

describe('migrateRunDoc', () => {
  it('reads the historical v1 fixture', () => {
    const doc = migrateRunDoc(fixture('historical/v1-minimal.json'));
    expect(doc.schemaVersion).toBe(1);
    expect(doc.run.runId).toBe('r_fixture');
    expect(RunDoc.safeParse(doc).success).toBe(true);
  });

  it('returns a current document unchanged', () => {
    const doc = makeRunDoc();
    expect(migrateRunDoc(structuredClone(doc))).toEqual(doc);
  });

  it.each([
    ['missing', (d: Record<string, unknown>) => delete d['schemaVersion'], /no schemaVersion/],
    ['future', (d: Record<string, unknown>) => (d['schemaVersion'] = RUN_SCHEMA_VERSION + 1), /schemaVersion 2, newer than this build/],
    ['unknown', (d: Record<string, unknown>) => (d['schemaVersion'] = 0), /unknown schemaVersion 0/],
    ['non-integer', (d: Record<string, unknown>) => (d['schemaVersion'] = '1'), /invalid schemaVersion "1"/],
  ])('refuses a %s schemaVersion, naming it', (_name, edit, message) => {
    const doc = structuredClone(makeRunDoc()) as unknown as Record<string, unknown>;
    edit(doc);
    expect(() => migrateRunDoc(doc)).toThrow(StoreCorruptError);
    expect(() => migrateRunDoc(doc)).toThrow(message);
  });

  it.each([null, [], 'text', 3])('refuses the non-object %j', (raw) => {
    expect(() => migrateRunDoc(raw)).toThrow(/not a JSON object/);
  });

  it('names the invalid fields without echoing their values', () => {
    const doc = structuredClone(makeRunDoc()) as unknown as { run: Record<string, unknown> };
    doc.run['task'] = 42;
    doc.run['secretish'] = 'xoxb-CANARY';
    expect(() => migrateRunDoc(doc)).toThrow(/run\.task/);
    expect(() => migrateRunDoc(doc)).not.toThrow(/xoxb-CANARY/);
  });

  it('has a migration for every supported version below the current one', () => {
    for (let v = 1; v < RUN_SCHEMA_VERSION; v += 1) expect(RUN_DOC_MIGRATIONS[v]).toBeTypeOf('function');
    expect(Object.keys(RUN_DOC_MIGRATIONS).map(Number).every((v) => v < RUN_SCHEMA_VERSION)).toBe(true);
  });
});
