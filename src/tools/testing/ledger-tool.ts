/**
 * The reliability rig's fake side effect (RELIABILITY.md): a tool that appends its idempotency key
 * to a ledger (a file, so a crashed child process leaves evidence the parent can count, or an
 * in-memory array). Tests count ledger lines to prove "no non-idempotent side effect twice".
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ActionCategory, Risk } from '../../store/run-schema.ts';
import { ToolError } from '../../shared/errors.ts';
import type { ToolContext, ToolDefinition } from '../types.ts';

export interface LedgerToolOptions {
  name?: string;
  category?: ActionCategory;
  risk?: Risk;
  idempotent?: boolean;
  /** Append one line per execution here; otherwise to {@link LedgerTool.entries}. */
  file?: string;
  /** Fail the first N executions with this error. */
  failFirst?: { times: number; retryable: boolean };
  /** Never resolve (until aborted): for timeout tests. */
  hang?: boolean;
  timeoutMs?: number;
}

/** A ledger tool definition plus its recorded executions. */
export interface LedgerTool {
  definition: ToolDefinition;
  /** In-memory ledger (when no file is used). */
  entries: { key: string; args: unknown }[];
  /** Reads the ledger file's keys (when a file is used). */
  fileKeys(): string[];
}

/** Builds a ledger tool. Its input is `{ note: string }` (strict). */
export function createLedgerTool(options: LedgerToolOptions = {}): LedgerTool {
  const entries: { key: string; args: unknown }[] = [];
  let failures = 0;
  const definition: ToolDefinition = {
    name: options.name ?? 'ledger_append',
    description: 'Appends a note to the ledger (a side effect tests can count).',
    inputSchema: z.strictObject({ note: z.string().max(1000) }),
    category: options.category ?? 'external_message',
    risk: options.risk ?? 'external',
    idempotent: options.idempotent ?? false,
    source: 'builtin',
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    handler: async (args: unknown, ctx: ToolContext) => {
      if (options.hang) {
        await new Promise<never>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      }
      if (options.failFirst && failures < options.failFirst.times) {
        failures += 1;
        throw new ToolError(`ledger unavailable (failure ${failures})`, { retryable: options.failFirst.retryable });
      }
      if (options.file) appendFileSync(options.file, `${JSON.stringify({ key: ctx.idempotencyKey, args })}\n`);
      else entries.push({ key: ctx.idempotencyKey, args });
      return { content: JSON.stringify({ appended: true, key: ctx.idempotencyKey }) };
    },
  };
  return {
    definition,
    entries,
    fileKeys() {
      if (!options.file) return entries.map((e) => e.key);
      let text = '';
      try {
        text = readFileSync(options.file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return text
        .split('\n')
        .filter((line) => line.trim().length > 0)
        .map((line) => (JSON.parse(line) as { key: string }).key);
    },
  };
}
