/**
 * `harness export <run>`: writes a run's operator artifacts under the seed's names (DESIGN.md §5)
 * so trace-aware evals written against the seed's run directories carry over:
 *
 * ```
 * <outDir>/state.json  trace.json  summary.json  memory.json  trace_summary.json  handoffs.json
 * <outDir>/files/<workspace-relative path>     the files the run produced
 * ```
 *
 * Produced files are copied only from inside the workspace root: a recorded path that is absolute,
 * contains `..`, or resolves (through symlinks) outside the root is refused and reported, never
 * copied. Nothing is written outside `outDir`.
 */
import { copyFile, mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { sha256Hex } from '../shared/canonical-json.ts';
import type { RunDoc } from '../store/run-schema.ts';
import { buildMemorySnapshot } from '../memory/snapshot.ts';
import { buildHandoffs } from './handoffs.ts';
import { buildRunSummary } from './run-summary.ts';
import { buildTraceSummary } from './trace-summary.ts';

/** The JSON artifacts, in the order they are written. */
export const EXPORT_ARTIFACTS = [
  'state.json',
  'trace.json',
  'summary.json',
  'memory.json',
  'trace_summary.json',
  'handoffs.json',
] as const;

export interface ExportOptions {
  /** The workspace the run's produced files are relative to. */
  workspaceRoot: string;
}

export interface ExportResult {
  outDir: string;
  /** Absolute paths of every file written: the six artifacts, then the copied files. */
  written: string[];
  /** Produced files not copied, with why (`escapes the workspace`, `missing`, `not a file`). */
  skipped: { path: string; reason: string }[];
  /** Produced files copied whose content no longer matches the sha256 recorded when produced. */
  changed: string[];
}

/** A workspace-relative path that stays inside its root lexically, or null. */
function safeRelative(path: string): string | null {
  if (path === '' || path.includes('\0') || isAbsolute(path) || /^[A-Za-z]:/.test(path)) return null;
  const normal = normalize(path);
  if (normal === '.' || normal === '..' || normal.startsWith(`..${sep}`) || normal.split(sep).includes('..')) return null;
  return normal;
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

/**
 * Writes the six artifacts of `doc` into `outDir` (created if needed) and copies its produced
 * files into `outDir/files/`. Files that escape the workspace, are missing or are not regular
 * files are skipped and listed; they never fail the export.
 * @throws the underlying fs error when `outDir` cannot be written.
 */
export async function exportRunArtifacts(doc: RunDoc, outDir: string, options: ExportOptions): Promise<ExportResult> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const artifacts: Record<(typeof EXPORT_ARTIFACTS)[number], unknown> = {
    'state.json': doc.run,
    'trace.json': doc.trace,
    'summary.json': buildRunSummary(doc),
    'memory.json': buildMemorySnapshot(doc, { query: doc.run.task, topK: 5 }),
    'trace_summary.json': buildTraceSummary(doc),
    'handoffs.json': buildHandoffs(doc),
  };
  for (const name of EXPORT_ARTIFACTS) {
    const path = join(outDir, name);
    await writeJson(path, artifacts[name]);
    written.push(path);
  }

  const skipped: ExportResult['skipped'] = [];
  const changed: string[] = [];
  let root: string | null;
  try {
    root = await realpath(options.workspaceRoot);
  } catch {
    root = null;
  }
  for (const file of doc.run.files) {
    const rel = safeRelative(file.path);
    if (rel === null) {
      skipped.push({ path: file.path, reason: 'escapes the workspace' });
      continue;
    }
    if (root === null) {
      skipped.push({ path: file.path, reason: 'missing (no workspace root)' });
      continue;
    }
    let source: string;
    try {
      source = await realpath(join(root, rel));
    } catch {
      skipped.push({ path: file.path, reason: 'missing' });
      continue;
    }
    if (!inside(root, source)) {
      skipped.push({ path: file.path, reason: 'escapes the workspace' });
      continue;
    }
    if (!(await stat(source)).isFile()) {
      skipped.push({ path: file.path, reason: 'not a file' });
      continue;
    }
    const target = join(outDir, 'files', rel);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    written.push(target);
    if (sha256Hex(await readFile(target)) !== file.sha256) changed.push(file.path);
  }
  return { outDir, written, skipped, changed };
}
