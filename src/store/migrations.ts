/**
 * Schema versions of the run document (STYLE.md point 8). A stored document is read through
 * {@link migrateRunDoc}: its `schemaVersion` is checked first, older versions are lifted one step at
 * a time to {@link RUN_SCHEMA_VERSION}, and the result is validated with the strict `RunDoc` schema.
 * Unknown, missing and future versions are refused: a newer build's file is never "repaired" by an
 * older one.
 *
 * To add v2: bump `RUN_SCHEMA_VERSION` and `SUPPORTED_RUN_SCHEMA_VERSIONS` in run-schema.ts, add
 * `1: (doc) => ({ ...doc, schemaVersion: 2, ... })` to {@link RUN_DOC_MIGRATIONS}, and keep a v1
 * fixture in `test/fixtures/store/historical/` that must keep loading.
 */
import type { z } from 'zod';
import { StoreCorruptError } from '../shared/errors.ts';
import { RUN_SCHEMA_VERSION, RunDoc, SUPPORTED_RUN_SCHEMA_VERSIONS } from './run-schema.ts';

/** A raw document object of some schema version, as parsed from disk. */
type RawDoc = Record<string, unknown>;

/**
 * Migrations keyed by the version they read: `RUN_DOC_MIGRATIONS[n]` turns a vN document into a
 * v(n+1) document. Pure functions over plain JSON; validation happens once, after the last step.
 */
export const RUN_DOC_MIGRATIONS: Readonly<Record<number, (doc: RawDoc) => RawDoc>> = {};

function isPlainObject(value: unknown): value is RawDoc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Summarises zod issues by path and message; values are left out (they may hold user text). */
export function describeIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`);
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}

/**
 * Checks the version of a parsed run document, migrates it to the current version and validates it.
 * @returns a valid current-version {@link RunDoc}.
 * @throws StoreCorruptError when the value is not an object, `schemaVersion` is missing, unknown or
 * newer than this build, or the document fails validation. The message names the version.
 */
export function migrateRunDoc(raw: unknown): RunDoc {
  if (!isPlainObject(raw)) {
    throw new StoreCorruptError(`run document is not a JSON object (got ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : typeof raw})`);
  }
  if (!Object.hasOwn(raw, 'schemaVersion')) {
    throw new StoreCorruptError(`run document has no schemaVersion (this build reads ${SUPPORTED_RUN_SCHEMA_VERSIONS.join(', ')})`, {
      details: { schemaVersion: null },
    });
  }
  const version = raw['schemaVersion'];
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    throw new StoreCorruptError(`run document has an invalid schemaVersion ${JSON.stringify(version)}`, {
      details: { schemaVersion: String(version) },
    });
  }
  if (version > RUN_SCHEMA_VERSION) {
    throw new StoreCorruptError(
      `run document has schemaVersion ${version}, newer than this build (${RUN_SCHEMA_VERSION}); upgrade the harness to read it`,
      { details: { schemaVersion: version } },
    );
  }
  if (!(SUPPORTED_RUN_SCHEMA_VERSIONS as readonly number[]).includes(version)) {
    throw new StoreCorruptError(
      `run document has unknown schemaVersion ${version} (this build reads ${SUPPORTED_RUN_SCHEMA_VERSIONS.join(', ')})`,
      { details: { schemaVersion: version } },
    );
  }
  let doc: RawDoc = raw;
  for (let from = version; from < RUN_SCHEMA_VERSION; from += 1) {
    const step = RUN_DOC_MIGRATIONS[from];
    if (!step) {
      throw new StoreCorruptError(`no migration from run schemaVersion ${from} to ${from + 1}`, { details: { schemaVersion: version } });
    }
    doc = step(doc);
  }
  const parsed = RunDoc.safeParse(doc);
  if (!parsed.success) {
    throw new StoreCorruptError(`run document (schemaVersion ${version}) is invalid: ${describeIssues(parsed.error)}`, {
      details: { schemaVersion: version },
    });
  }
  return parsed.data;
}
