/**
 * The journal of every Web API (and response_url) call the local workspace answered, plus the
 * list of loud failures: calls and frames a correct bot never makes (unknown methods, acks for
 * envelopes that were never sent, unparseable frames). Tests assert `unexpected` is empty, so a
 * fake that silently tolerated a bug cannot hide it.
 *
 * Bodies are stored with tokens and configured secrets redacted (RELIABILITY.md P16).
 */
import { EventEmitter } from 'node:events';
import { SlackApiError } from '../shared/errors.ts';
import { redactDeep, type Redactor } from '../shared/redact.ts';

/** One answered call. */
export interface JournalEntry {
  seq: number;
  /** Epoch ms when the call arrived. */
  ts: number;
  method: string;
  /** Which configured token authenticated it. */
  auth: 'bot' | 'app' | 'none' | 'invalid';
  /** Request arguments, redacted. */
  body: Record<string, unknown>;
  status: number;
  response: unknown;
  /** The injected fault that produced this answer, if any. */
  fault?: { status?: number; error?: string; delayMs?: number; retryAfterSec?: number };
}

/** Something a correct bot would never cause. */
export interface LoudFailure {
  ts: number;
  kind: 'unknown_method' | 'unknown_envelope' | 'duplicate_ack' | 'malformed_frame' | 'handler_error' | 'invalid_response';
  detail: string;
}

/** Records calls and loud failures; lets tests wait for a call. */
export class CallJournal {
  private readonly entries: JournalEntry[] = [];
  private readonly failures: LoudFailure[] = [];
  private readonly emitter = new EventEmitter();
  private seq = 0;

  constructor(
    private readonly redactor: Redactor,
    private readonly now: () => number,
  ) {
    this.emitter.setMaxListeners(0);
  }

  /** Appends a call; the body and response are redacted before they are stored. */
  record(entry: Omit<JournalEntry, 'seq'>): JournalEntry {
    this.seq += 1;
    const stored: JournalEntry = {
      ...entry,
      seq: this.seq,
      body: redactDeep(entry.body, this.redactor),
      response: redactDeep(entry.response, this.redactor),
    };
    this.entries.push(stored);
    this.emitter.emit('call', stored);
    return stored;
  }

  /** Records a loud failure (see {@link LoudFailure}). */
  recordUnexpected(kind: LoudFailure['kind'], detail: string): void {
    this.failures.push({ ts: this.now(), kind, detail: this.redactor(detail) });
  }

  /** Calls `listener` with every call recorded from now on; returns the unsubscribe. */
  onCall(listener: (entry: JournalEntry) => void): () => void {
    this.emitter.on('call', listener);
    return () => this.emitter.off('call', listener);
  }

  /** Calls in arrival order, optionally only one method's. */
  calls(method?: string): JournalEntry[] {
    return method === undefined ? [...this.entries] : this.entries.filter((e) => e.method === method);
  }

  /** Loud failures so far (empty for a well-behaved bot). */
  get unexpected(): LoudFailure[] {
    return [...this.failures];
  }

  /**
   * Resolves with the first call (already recorded or yet to come) of `method` matching
   * `predicate`. @throws SlackApiError when none arrives within `timeoutMs`.
   */
  waitForCall(method: string, predicate: (entry: JournalEntry) => boolean = () => true, timeoutMs = 5000): Promise<JournalEntry> {
    const existing = this.entries.find((e) => e.method === method && predicate(e));
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const onCall = (entry: JournalEntry): void => {
        if (entry.method !== method || !predicate(entry)) return;
        clearTimeout(timer);
        this.emitter.off('call', onCall);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.emitter.off('call', onCall);
        reject(new SlackApiError(`no ${method} call matched within ${timeoutMs} ms`, { details: { method, timeoutMs } }));
      }, timeoutMs);
      this.emitter.on('call', onCall);
    });
  }
}
