/**
 * The tamper-evident audit log (`<dataDir>/audit.jsonl`, DESIGN.md §6): one JSON line per human
 * decision or refusal, each carrying the hash of the line before it.
 *
 * ```
 * record = { ...entry, seq, prevHash, hash }
 * hash   = sha256(prevHash + canonicalJson({ ...entry, seq }))      prevHash of seq 1 = 64 × "0"
 * ```
 *
 * Guarantees:
 * - Append-only: lines are only ever appended (open 'a', write, fsync), never rewritten.
 * - Serialised: appends from one process go through an in-process queue, so `seq` and `prevHash`
 *   never fork. (Only the process holding the data-dir lock writes here.)
 * - Durable: `append` resolves after the line is fsynced (and the directory, when the file is new).
 * - Redacted: entries pass through the redactor before they are hashed and written.
 * - Crash-tolerant: a torn last line (a crash mid-append) is ignored and reported at open; it is
 *   left in place, and the next append starts on a fresh line. `verify` reports such lines in
 *   `tornLines` without failing: a torn line never carried an acknowledged entry.
 *
 * What it does not guarantee: removing the newest entries (truncation) cannot be detected from
 * the file alone; the run traces and the Slack card permalinks are the independent witnesses.
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { canonicalJson, sha256Hex } from '../shared/canonical-json.ts';
import { BotError, ErrorCode } from '../shared/errors.ts';
import { patternRedactor, redactDeep, type Redactor } from '../shared/redact.ts';

/** `prevHash` of the first record. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** What happened. The listed actions are the ones the harness writes; others are allowed. */
export type AuditAction =
  | 'approved'
  | 'rejected'
  | 'refused'
  | 'expired'
  | 'cancelled'
  | 'reminded'
  | 'resumed'
  | 'attention_resolved'
  | 'subagent_killed'
  | (string & {});

/** One audit fact, as the caller gives it. */
export interface AuditEntry {
  /** Milliseconds since the epoch. */
  ts: number;
  runId: string;
  gateId?: string;
  action: AuditAction;
  /** Who: a Slack user id, `cli:<user>`, or `system`. */
  actor: string;
  /** Where the decision came from: `slack`, `cli`, `mcp`, `system`. */
  source: string;
  /** The hash the decision binds to (the approved hash after an edit). */
  argsHash?: string;
  reason?: string;
  /** Slack permalink of the gate card, when known. */
  permalink?: string;
}

/** One line of the audit log. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  /** True when every record's seq, prevHash and hash check out. */
  ok: boolean;
  /** Records that verified (up to the break, when there is one). */
  entries: number;
  /** 1-based line number of the first record that does not verify. */
  brokenAt?: number;
  /** Why that record does not verify. */
  reason?: string;
  /** 1-based line numbers of torn (unparseable) lines that were skipped. */
  tornLines: number[];
}

export interface AuditOpenReport {
  /** Records found at open. */
  entries: number;
  /** The torn last line found at open (left in place), or null. */
  tornTail: { line: number; bytes: number } | null;
}

export interface AuditLogOptions {
  /** Scrubs secrets from entries before they are hashed and written; defaults to token patterns. */
  redactor?: Redactor;
}

interface ParsedLine {
  line: number;
  text: string;
  record: AuditRecord | null;
}

function splitLines(text: string): { lines: ParsedLine[]; endsWithNewline: boolean } {
  const parts = text.split('\n');
  const endsWithNewline = text.length === 0 || text.endsWith('\n');
  if (endsWithNewline) parts.pop();
  const lines = parts.map((part, index): ParsedLine => {
    let record: AuditRecord | null = null;
    try {
      const value: unknown = JSON.parse(part);
      if (isRecordShape(value)) record = value;
    } catch {
      record = null;
    }
    return { line: index + 1, text: part, record };
  });
  return { lines, endsWithNewline };
}

function isRecordShape(value: unknown): value is AuditRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['seq'] === 'number' && typeof v['prevHash'] === 'string' && typeof v['hash'] === 'string';
}

/** The hash a record must carry, given its content and `prevHash`. */
export function auditRecordHash(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  const { prevHash, ...rest } = record as AuditRecord;
  const body: Record<string, unknown> = { ...rest };
  delete body['hash'];
  return sha256Hex(prevHash + canonicalJson(body));
}

function ioError(message: string, cause: unknown): BotError {
  // Retrying is safe: a half-written line is skipped as torn and the next append starts afresh.
  return new BotError(ErrorCode.StoreIo, message, { cause, retryable: true });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw ioError(`cannot read audit log ${path}`, error);
  }
}

/** The hash-chained, append-only audit log. Create with {@link AuditLog.open}. */
export class AuditLog {
  private lastSeq = 0;
  private lastHash = AUDIT_GENESIS_HASH;
  private queue: Promise<unknown> = Promise.resolve();
  private report: AuditOpenReport = { entries: 0, tornTail: null };

  private constructor(
    /** Absolute path of the log file. */
    readonly path: string,
    private readonly redactor: Redactor,
  ) {}

  /**
   * Opens (and creates the directory of) the log at `path`, reading the chain head from the last
   * parseable record. A torn last line is reported in {@link AuditLog.openReport}, never removed.
   * @throws BotError `store_io` when the file exists but cannot be read.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(path, options.redactor ?? patternRedactor);
    await mkdir(dirname(path), { recursive: true });
    const { lines, endsWithNewline } = splitLines(await readText(path));
    const records = lines.filter((l) => l.record !== null);
    const last = records.at(-1)?.record;
    if (last) {
      log.lastSeq = last.seq;
      log.lastHash = last.hash;
    }
    const tail = lines.at(-1);
    // Only the last line can be torn by our own crash; a complete record missing just its newline
    // still counts (the next append adds the newline first).
    const torn = tail !== undefined && tail.record === null && !endsWithNewline ? tail : null;
    log.report = {
      entries: records.length,
      tornTail: torn ? { line: torn.line, bytes: Buffer.byteLength(torn.text) } : null,
    };
    return log;
  }

  /** What {@link AuditLog.open} found. */
  get openReport(): AuditOpenReport {
    return { entries: this.report.entries, tornTail: this.report.tornTail ? { ...this.report.tornTail } : null };
  }

  /**
   * Redacts, chains and durably appends one entry; resolves with the written record after fsync.
   * Appends are serialised in call order.
   * @throws BotError `store_io` (retryable) when the write or fsync fails (the chain head is then left unchanged).
   */
  append(entry: AuditEntry): Promise<AuditRecord> {
    const run = this.queue.then(() => this.write(entry));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(entry: AuditEntry): Promise<AuditRecord> {
    const clean = redactDeep(entry, this.redactor);
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(clean)) if (value !== undefined && key !== 'seq' && key !== 'prevHash' && key !== 'hash') body[key] = value;
    const seq = this.lastSeq + 1;
    const prevHash = this.lastHash;
    const hash = sha256Hex(prevHash + canonicalJson({ ...body, seq }));
    const record = { ...body, seq, prevHash, hash } as AuditRecord;

    let handle;
    try {
      handle = await open(this.path, 'a+');
      const { size } = await handle.stat();
      let needsNewline = false;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        // A torn tail (crash mid-append) has no newline: start our line on a fresh one.
        needsNewline = last[0] !== 0x0a;
      }
      await handle.write(`${needsNewline ? '\n' : ''}${JSON.stringify(record)}\n`);
      await handle.sync();
      if (size === 0) await syncDirectory(dirname(this.path));
    } catch (error) {
      throw ioError(`cannot append to audit log ${this.path}`, error);
    } finally {
      await handle?.close();
    }
    this.lastSeq = seq;
    this.lastHash = hash;
    return record;
  }

  /** All parseable records currently in the file (torn lines skipped), oldest first. */
  async records(): Promise<AuditRecord[]> {
    await this.queue;
    return splitLines(await readText(this.path))
      .lines.map((l) => l.record)
      .filter((r): r is AuditRecord => r !== null);
  }

  /**
   * Re-reads the file and checks the chain: consecutive `seq` from 1, each `prevHash` equal to the
   * previous record's `hash`, each `hash` recomputed. Waits for queued appends first.
   */
  async verify(): Promise<AuditVerifyResult> {
    await this.queue;
    return verifyAuditText(await readText(this.path));
  }
}

/** Verifies audit-log text (see {@link AuditLog.verify}); exported for `harness doctor` and tests. */
export function verifyAuditText(text: string): AuditVerifyResult {
  const { lines } = splitLines(text);
  const tornLines: number[] = [];
  let prev = AUDIT_GENESIS_HASH;
  let expected = 1;
  let entries = 0;
  for (const { line, record } of lines) {
    if (record === null) {
      tornLines.push(line);
      continue;
    }
    const broken = (reason: string): AuditVerifyResult => ({ ok: false, entries, brokenAt: line, reason, tornLines });
    if (record.seq !== expected) return broken(`expected seq ${expected}, found ${record.seq}`);
    if (record.prevHash !== prev) return broken('prevHash does not match the previous record');
    if (auditRecordHash(record) !== record.hash) return broken('hash does not match the record content');
    prev = record.hash;
    expected += 1;
    entries += 1;
  }
  return { ok: true, entries, tornLines };
}

async function syncDirectory(dir: string): Promise<void> {
  // A new file's directory entry must be durable too; some platforms refuse to fsync a directory.
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the file's own fsync already succeeded.
  } finally {
    await handle?.close();
  }
}
