/**
 * The safe file layer over one workspace folder (RELIABILITY.md P13). Every path comes from the
 * model, so every path is hostile until proven otherwise:
 *
 * 1. lexical checks (shared with the policy engine, `src/policy/path-rules.ts`): relative, no `..`,
 *    no NUL, no backslash, no empty segment, ≤ 255 per segment and ≤ 1024 in total;
 * 2. for writes, each EXISTING segment from the root down is `lstat`-ed: any symbolic link, or a
 *    non-directory where a directory is needed, refuses; `realpath` of the deepest existing parent
 *    must stay inside `realpath(root)`; only then are missing parent folders created, the checks
 *    repeated, and the file written via a temp file + rename;
 * 3. for reads, `realpath` of the target must stay inside `realpath(root)`.
 *
 * All refusals are `ToolError`s (not retryable) whose message is a reason from `PathReason`.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PathReason, checkRelativePath } from '../policy/path-rules.ts';
import { sha256Hex } from '../shared/canonical-json.ts';
import { ToolError, errnoOf } from '../shared/errors.ts';

/** Files larger than this are skipped by `search`. */
export const SEARCH_MAX_FILE_BYTES = 1024 * 1024;
/** At most this many files are opened by one `search` (bounded consumption, P18). */
export const SEARCH_MAX_FILES = 2000;
/** `list` returns at most this many entries. */
export const LIST_MAX_ENTRIES = 500;
const MAX_DEPTH = 16;
const EXCERPT_CHARS = 240;
const STOPWORDS = new Set(['the', 'and', 'for', 'of', 'to', 'in', 'on', 'a', 'an', 'is', 'are', 'or', 'with', 'about', 'what', 'how']);

/** One entry of {@link WorkspaceFs.list}. Symbolic links are reported, never followed. */
export interface WorkspaceEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  bytes: number;
}

/** One hit of {@link WorkspaceFs.search}. */
export interface SearchMatch {
  path: string;
  /** How many distinct query words occur in the file's path or text. */
  score: number;
  excerpt: string;
}

/** What {@link WorkspaceFs.read} returns. */
export interface ReadResult {
  path: string;
  content: string;
  /** The file's full size. */
  bytes: number;
  truncated: boolean;
}

/** What {@link WorkspaceFs.write} returns. */
export interface WriteResult {
  path: string;
  bytes: number;
  sha256: string;
  /** True when the file already held exactly this content and nothing was written. */
  unchanged: boolean;
}

/** Where a checked path points. `relative` is normalised (`./a//` is refused, `./a` becomes `a`). */
export interface ResolvedPath {
  absolute: string;
  relative: string;
}

/**
 * Reads, searches and writes inside one root folder and nowhere else. Holds no file handles; safe
 * to share. The root must exist (it is never created).
 */
export class WorkspaceFs {
  /** The root as given, made absolute (not symlink-resolved). */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * Checks `rel` for the given use and returns where it points. `read` and `list` require the
   * target to exist and resolve (realpath) inside the root; `write` requires that no existing
   * segment is a symlink, intermediate segments are folders, an existing target is a regular file,
   * and the deepest existing parent resolves inside the root. Throws `ToolError` with a
   * `PathReason` otherwise.
   */
  async resolveInside(rel: string, mode: 'read' | 'list' | 'write'): Promise<ResolvedPath> {
    const lexical = checkRelativePath(rel, { allowRoot: mode === 'list' });
    if (!lexical.ok) throw refuse(lexical.reason);
    const realRoot = await this.realRoot();
    const absolute = join(realRoot, ...lexical.segments);
    if (mode === 'write') {
      await this.checkWriteSegments(rel, realRoot, lexical.segments);
      return { absolute, relative: lexical.normalized };
    }
    let real: string;
    try {
      real = await realpath(absolute);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') throw refuse(PathReason.notFound(rel));
      throw ioError(`cannot resolve ${JSON.stringify(lexical.normalized)}`, error);
    }
    if (!isInside(realRoot, real)) throw refuse(PathReason.escapesRoot(rel));
    return { absolute: real, relative: lexical.normalized };
  }

  /**
   * The write preflight: the reason `write(rel, …)` would be refused for its path, or `null`.
   * Touches nothing; safe to call before anyone is asked to approve the write.
   */
  async checkWrite(rel: string): Promise<string | null> {
    try {
      await this.resolveInside(rel, 'write');
      return null;
    } catch (error) {
      if (error instanceof ToolError) return error.message;
      throw error;
    }
  }

  /**
   * Lists one folder (default: the root), sorted by name, hidden (dot) entries left out, at most
   * {@link LIST_MAX_ENTRIES}. A trailing `/` is accepted here (models often send `notes/`).
   */
  async list(dir = '.'): Promise<{ path: string; entries: WorkspaceEntry[]; truncated: boolean }> {
    const trimmed = dir.replace(/\/+$/, '');
    const resolved = await this.resolveInside(trimmed === '' ? dir : trimmed, 'list');
    const info = await stat(resolved.absolute);
    if (!info.isDirectory()) throw refuse(PathReason.notDirectory(dir));
    const dirents = (await readdir(resolved.absolute, { withFileTypes: true }))
      .filter((d) => !d.name.startsWith('.'))
      .sort((a, b) => compare(a.name, b.name));
    const entries: WorkspaceEntry[] = [];
    for (const dirent of dirents.slice(0, LIST_MAX_ENTRIES)) {
      const path = resolved.relative === '.' ? dirent.name : `${resolved.relative}/${dirent.name}`;
      const type = direntType(dirent);
      const bytes = type === 'file' ? (await lstat(join(resolved.absolute, dirent.name))).size : 0;
      entries.push({ path, type, bytes });
    }
    return { path: resolved.relative, entries, truncated: dirents.length > LIST_MAX_ENTRIES };
  }

  /**
   * Reads a text file, at most `maxBytes` of it (UTF-8; a character cut at the end is dropped).
   * Throws `ToolError` for refused paths, folders, and files that look binary (a NUL byte).
   */
  async read(path: string, maxBytes: number): Promise<ReadResult> {
    const resolved = await this.resolveInside(path, 'read');
    const handle = await open(resolved.absolute, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw refuse(PathReason.notFile(path));
      const buffer = Buffer.alloc(Math.min(info.size, Math.max(0, maxBytes)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const data = buffer.subarray(0, bytesRead);
      if (data.includes(0)) throw refuse(PathReason.notText(path));
      const truncated = info.size > bytesRead;
      let content = data.toString('utf8');
      if (truncated) content = content.replace(/\uFFFD+$/, '');
      return { path: resolved.relative, content, bytes: info.size, truncated };
    } finally {
      await handle.close();
    }
  }

  /**
   * Keyword search over the text files under the root, as the seed's mock search did: the query is
   * lower-cased and split into words (punctuation dropped, 1-letter words and a few stop words
   * ignored); a file's score is the number of distinct words found as substrings of its path plus
   * text. Only scores > 0 are returned, best first (ties by path), at most `maxResults`. Hidden
   * entries and symlinks are not followed; files over 1 MB or containing NUL are skipped.
   */
  async search(query: string, options: { maxResults: number }): Promise<SearchMatch[]> {
    const words = queryWords(query);
    if (words.length === 0) return [];
    const realRoot = await this.realRoot();
    const matches: SearchMatch[] = [];
    let opened = 0;
    for await (const file of walk(realRoot, '', 0)) {
      if (opened >= SEARCH_MAX_FILES) break;
      const info = await lstat(file.absolute);
      if (!info.isFile() || info.size > SEARCH_MAX_FILE_BYTES) continue;
      opened += 1;
      const data = await readFile(file.absolute);
      if (data.includes(0)) continue;
      const text = data.toString('utf8');
      const lowerText = text.toLowerCase();
      const lowerPath = file.relative.toLowerCase();
      const found = words.filter((word) => lowerText.includes(word) || lowerPath.includes(word));
      if (found.length === 0) continue;
      matches.push({ path: file.relative, score: found.length, excerpt: excerpt(text, lowerText, found) });
    }
    matches.sort((a, b) => b.score - a.score || compare(a.path, b.path));
    return matches.slice(0, Math.max(1, options.maxResults));
  }

  /**
   * Writes `content` (UTF-8) to `path` inside the root. All path checks run first; then missing
   * parent folders are created, the checks are repeated (a symlink planted in between is caught),
   * and the data goes to a fresh temp file (`O_EXCL`, flushed) renamed over the target, followed by
   * a directory fsync. Writing the content a file already has is a no-op (`unchanged: true`), so
   * a retried or replayed write has the effect of one. `idempotencyKey` only labels the temp file.
   */
  async write(path: string, content: string, options: { idempotencyKey: string }): Promise<WriteResult> {
    const first = await this.resolveInside(path, 'write');
    const data = Buffer.from(content, 'utf8');
    const digest = sha256Hex(data);
    const existing = await readIfFile(first.absolute);
    if (existing !== null && sha256Hex(existing) === digest) {
      return { path: first.relative, bytes: data.length, sha256: digest, unchanged: true };
    }
    const parent = join(first.absolute, '..');
    await this.makeParents(path);
    // A folder swapped for a symlink between the checks and here: check the whole path again.
    const checked = await this.resolveInside(path, 'write');
    const label = sha256Hex(options.idempotencyKey).slice(0, 8);
    const temp = join(parent, `.harness-${label}-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, data, { flag: 'wx', flush: true });
      await rename(temp, checked.absolute);
    } catch (error) {
      await rm(temp, { force: true });
      throw ioError(`cannot write ${JSON.stringify(checked.relative)}`, error);
    }
    await fsyncDir(parent);
    return { path: checked.relative, bytes: data.length, sha256: digest, unchanged: false };
  }

  /**
   * Creates the missing parent folders of `rel` one at a time, never with `recursive`: before each
   * `mkdir` the folder above it is `lstat`-ed again (a real directory, no symlink) and its
   * `realpath` must be inside the root, so a symlink planted mid-path between the preflight and
   * here stops the write instead of having folders created through it.
   */
  private async makeParents(rel: string): Promise<void> {
    const lexical = checkRelativePath(rel, { allowRoot: false });
    if (!lexical.ok) throw refuse(lexical.reason);
    const realRoot = await this.realRoot();
    let current = realRoot;
    for (const [index, segment] of lexical.segments.slice(0, -1).entries()) {
      const shown = lexical.segments.slice(0, index + 1).join('/');
      const above = current;
      current = join(current, segment);
      if (above !== realRoot) {
        const info = await lstat(above);
        if (info.isSymbolicLink() || !info.isDirectory()) throw refuse(PathReason.symlink(rel, lexical.segments.slice(0, index).join('/')));
        if (!isInside(realRoot, await realpath(above))) throw refuse(PathReason.escapesRoot(rel));
      }
      try {
        await mkdir(current);
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw ioError(`cannot create folder ${JSON.stringify(shown)}`, error);
      }
    }
  }

  private async realRoot(): Promise<string> {
    try {
      const real = await realpath(this.root);
      if (!(await stat(real)).isDirectory()) throw new ToolError('the workspace root is not a directory');
      return real;
    } catch (error) {
      if (error instanceof ToolError) throw error;
      throw new ToolError('the workspace root does not exist or cannot be read', { cause: error });
    }
  }

  private async checkWriteSegments(rel: string, realRoot: string, segments: readonly string[]): Promise<void> {
    let current = realRoot;
    let deepestExisting = realRoot;
    for (const [index, segment] of segments.entries()) {
      current = join(current, segment);
      const shown = segments.slice(0, index + 1).join('/');
      let info: Stats;
      try {
        info = await lstat(current);
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') break;
        throw ioError(`cannot inspect ${JSON.stringify(shown)}`, error);
      }
      if (info.isSymbolicLink()) throw refuse(PathReason.symlink(rel, shown));
      const last = index === segments.length - 1;
      if (!last && !info.isDirectory()) throw refuse(PathReason.parentNotDirectory(rel, shown));
      if (last && !info.isFile()) throw refuse(PathReason.notFile(rel));
      if (!last) deepestExisting = current;
    }
    let real: string;
    try {
      real = await realpath(deepestExisting);
    } catch (error) {
      throw ioError(`cannot resolve the parent of ${JSON.stringify(rel)}`, error);
    }
    if (!isInside(realRoot, real)) throw refuse(PathReason.escapesRoot(rel));
  }
}

/** Lower-cased distinct query words, punctuation stripped, stop words and 1-letter words dropped. */
export function queryWords(query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length >= 2 && !STOPWORDS.has(word));
  return [...new Set(words)];
}

async function* walk(dir: string, prefix: string, depth: number): AsyncGenerator<{ absolute: string; relative: string }> {
  if (depth > MAX_DEPTH) return;
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // A folder removed or unreadable mid-walk is simply not searched.
  }
  dirents.sort((a, b) => compare(a.name, b.name));
  for (const dirent of dirents) {
    if (dirent.name.startsWith('.') || dirent.isSymbolicLink()) continue;
    const absolute = join(dir, dirent.name);
    const relativePath = prefix === '' ? dirent.name : `${prefix}/${dirent.name}`;
    if (dirent.isDirectory()) yield* walk(absolute, relativePath, depth + 1);
    else if (dirent.isFile()) yield { absolute, relative: relativePath };
  }
}

function excerpt(text: string, lowerText: string, words: readonly string[]): string {
  const positions = words.map((word) => lowerText.indexOf(word)).filter((pos) => pos >= 0);
  const at = positions.length === 0 ? 0 : Math.min(...positions);
  const start = Math.max(0, at - 80);
  const end = Math.min(text.length, start + EXCERPT_CHARS);
  const body = text.slice(start, end).replace(/\s+/g, ' ').trim();
  return `${start > 0 ? '…' : ''}${body}${end < text.length ? '…' : ''}`;
}

function isInside(realRoot: string, real: string): boolean {
  const rel = relative(realRoot, real);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

function direntType(dirent: Dirent): WorkspaceEntry['type'] {
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isDirectory()) return 'directory';
  if (dirent.isFile()) return 'file';
  return 'other';
}

async function readIfFile(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return null;
    throw ioError('cannot read the existing file', error);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function refuse(reason: string): ToolError {
  return new ToolError(reason, { retryable: false });
}

const TRANSIENT = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EINTR']);

function ioError(what: string, error: unknown): ToolError {
  const code = errnoOf(error) ?? 'unknown error';
  return new ToolError(`${what}: ${code}`, { cause: error, retryable: TRANSIENT.has(code) });
}
