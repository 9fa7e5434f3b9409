import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from '../../../src/shared/redact.ts';
import { AUDIT_GENESIS_HASH, AuditLog, auditRecordHash, type AuditEntry } from '../../../src/trace/audit-log.ts';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'harness-audit-'));
  path = join(dir, 'nested', 'audit.jsonl');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return { ts: 1_000 + i, runId: 'r_1', gateId: `g_${i}`, action: 'approved', actor: 'U_APPROVER1', source: 'slack', argsHash: 'a'.repeat(64), ...extra };
}

async function lines(): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('AuditLog', () => {
  it('appends hash-chained records and verifies them', async () => {
    const log = await AuditLog.open(path);
    expect(log.openReport).toEqual({ entries: 0, tornTail: null });
    const first = await log.append(entry(1));
    const second = await log.append(entry(2, { action: 'rejected', reason: 'too risky' }));
    expect(first).toMatchObject({ seq: 1, prevHash: AUDIT_GENESIS_HASH, runId: 'r_1', action: 'approved' });
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, reason: 'too risky' });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(auditRecordHash(second)).toBe(second.hash);
    expect(await log.verify()).toEqual({ ok: true, entries: 2, tornLines: [] });
    const onDisk = await lines();
    expect(onDisk.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2]);
    // Undefined optional fields are not written.
    expect(onDisk[0]).not.toContain('permalink');
  });

  it('serialises concurrent appends into one unforked chain', async () => {
    const log = await AuditLog.open(path);
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(entry(i))));
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await log.verify()).toMatchObject({ ok: true, entries: 20 });
  });

  it('continues the chain after reopening', async () => {
    const a = await AuditLog.open(path);
    await a.append(entry(1));
    const b = await AuditLog.open(path);
    expect(b.openReport.entries).toBe(1);
    const next = await b.append(entry(2));
    expect(next.seq).toBe(2);
    expect(await b.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it('reports the line of a tampered record', async () => {
    const log = await AuditLog.open(path);
    for (let i = 1; i <= 3; i += 1) await log.append(entry(i));
    const original = await lines();
    const tampered = JSON.parse(original[1] ?? '{}') as Record<string, unknown>;
    tampered['actor'] = 'U_MALLORY';
    await writeFile(path, `${[original[0], JSON.stringify(tampered), original[2]].join('\n')}\n`);
    expect(await log.verify()).toMatchObject({ ok: false, entries: 1, brokenAt: 2, reason: 'hash does not match the record content' });
  });

  it('detects a re-hashed forgery by the next record and a deleted record by its gap', async () => {
    const log = await AuditLog.open(path);
    for (let i = 1; i <= 3; i += 1) await log.append(entry(i));
    const original = await lines();
    const forged = JSON.parse(original[1] ?? '{}') as Record<string, unknown> & { hash: string };
    forged['actor'] = 'U_MALLORY';
    forged.hash = auditRecordHash(forged as never);
    await writeFile(path, `${[original[0], JSON.stringify(forged), original[2]].join('\n')}\n`);
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'prevHash does not match the previous record' });
    await writeFile(path, `${[original[0], original[2]].join('\n')}\n`);
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 2, reason: 'expected seq 2, found 3' });
  });

  it('tolerates a torn last line: reported at open, left in place, skipped by verify', async () => {
    const first = await AuditLog.open(path);
    await first.append(entry(1));
    await first.append(entry(2));
    const torn = '{"ts":1003,"runId":"r_1","act';
    await appendFile(path, torn);
    const before = await readFile(path, 'utf8');

    const log = await AuditLog.open(path);
    expect(log.openReport).toEqual({ entries: 2, tornTail: { line: 3, bytes: Buffer.byteLength(torn) } });
    expect(await readFile(path, 'utf8')).toBe(before); // opening rewrites nothing
    expect(await log.verify()).toEqual({ ok: true, entries: 2, tornLines: [3] });

    const third = await log.append(entry(3));
    expect(third.seq).toBe(3);
    const text = await readFile(path, 'utf8');
    expect(text.startsWith(before)).toBe(true); // append-only: the torn bytes are still there
    expect(await lines()).toHaveLength(4);
    expect(await log.verify()).toEqual({ ok: true, entries: 3, tornLines: [3] });
  });

  it('redacts entries before hashing and writing', async () => {
    const log = await AuditLog.open(path, { redactor: createRedactor(['CANARY-audit-secret']) });
    const record = await log.append(entry(1, { reason: 'pasted CANARY-audit-secret and xoxb-1-2-3' }));
    expect(record.reason).toBe(`pasted ${REDACTED} and ${REDACTED}`);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain('CANARY');
    expect(text).not.toContain('xoxb-');
    expect(await log.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it('lists records, skipping torn lines', async () => {
    const log = await AuditLog.open(path);
    await log.append(entry(1, { permalink: 'https://example.slack.com/archives/C1/p1' }));
    await appendFile(path, 'garbage');
    expect((await log.records()).map((r) => r.permalink)).toEqual(['https://example.slack.com/archives/C1/p1']);
  });
});
