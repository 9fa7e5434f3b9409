/**
 * The one place where workspace paths are judged lexically, and where every path refusal reason is
 * worded. Both the policy engine (which must stay pure) and the workspace file layer (which then
 * adds the filesystem checks: symlinks, realpath) use these, so a path the policy lets through is
 * the same path the file layer writes: the two cannot disagree about what `./reports//x` means.
 */

/** Longest workspace-relative path accepted, in characters. */
export const MAX_PATH_CHARS = 1024;
/** Longest single path segment accepted, in characters (the usual NAME_MAX). */
export const MAX_SEGMENT_CHARS = 255;

/** Quotes an untrusted path for a reason text, cut short so a 4 KB name cannot flood a trace or a card. */
export function quotePath(path: string, max = 120): string {
  const shown = path.length > max ? `${path.slice(0, max)}…` : path;
  return JSON.stringify(shown);
}

/**
 * Every reason a path can be refused for. Reasons name the path (quoted, truncated) and the rule,
 * never anything secret, because they are shown to the model and on approval cards.
 */
export const PathReason = {
  empty: () => 'path is empty',
  notString: () => 'path must be a string',
  tooLong: (path: string) => `path ${quotePath(path)} is longer than ${MAX_PATH_CHARS} characters`,
  segmentTooLong: (path: string) => `path ${quotePath(path)} has a segment longer than ${MAX_SEGMENT_CHARS} characters`,
  nul: (path: string) => `path ${quotePath(path)} contains a NUL byte`,
  backslash: (path: string) => `path ${quotePath(path)} contains a backslash; use "/" as the separator`,
  absolute: (path: string) => `path ${quotePath(path)} is absolute; use a workspace-relative path`,
  dotDot: (path: string) => `path ${quotePath(path)} contains a ".." segment`,
  emptySegment: (path: string) => `path ${quotePath(path)} contains an empty segment ("//" or a trailing "/")`,
  isRoot: (path: string) => `path ${quotePath(path)} names the workspace root, not a file`,
  outsideRoots: (path: string, roots: readonly string[]) =>
    roots.length === 0
      ? `path ${quotePath(path)} is not writable: no write roots are configured (policy.filesystem.roots)`
      : `path ${quotePath(path)} is outside the write roots ${roots.map((r) => JSON.stringify(r)).join(', ')}`,
  // Filesystem reasons (checked by the workspace file layer, not by the pure policy engine).
  symlink: (path: string, segment: string) => `path ${quotePath(path)} goes through a symbolic link at ${quotePath(segment)}`,
  escapesRoot: (path: string) => `path ${quotePath(path)} resolves outside the workspace root`,
  notFound: (path: string) => `path ${quotePath(path)} does not exist in the workspace`,
  notDirectory: (path: string) => `path ${quotePath(path)} is not a directory`,
  notFile: (path: string) => `path ${quotePath(path)} is not a regular file`,
  parentNotDirectory: (path: string, segment: string) => `path ${quotePath(path)}: ${quotePath(segment)} exists and is not a directory`,
  notText: (path: string) => `path ${quotePath(path)} is not a text file`,
} as const;

/** The result of a lexical check: the normalised segments, or the reason for refusal. */
export type LexicalPath = { ok: true; segments: string[]; normalized: string } | { ok: false; reason: string };

/**
 * Checks a workspace-relative path without touching the filesystem. Rejects: non-strings, empty
 * paths, more than {@link MAX_PATH_CHARS} characters, NUL, backslashes, absolute paths, `..`
 * segments, empty segments, and segments over {@link MAX_SEGMENT_CHARS}. `.` segments are dropped.
 * The result `normalized` is `.` when nothing but `.` segments remain (the workspace root itself);
 * callers that need a file must refuse that case (see `allowRoot`).
 *
 * Never throws; pure.
 */
export function checkRelativePath(path: unknown, options: { allowRoot?: boolean } = {}): LexicalPath {
  if (typeof path !== 'string') return { ok: false, reason: PathReason.notString() };
  if (path.length === 0) return { ok: false, reason: PathReason.empty() };
  if (path.length > MAX_PATH_CHARS) return { ok: false, reason: PathReason.tooLong(path) };
  if (path.includes('\0')) return { ok: false, reason: PathReason.nul(path) };
  if (path.includes('\\')) return { ok: false, reason: PathReason.backslash(path) };
  if (path.startsWith('/')) return { ok: false, reason: PathReason.absolute(path) };
  const raw = path.split('/');
  const segments: string[] = [];
  for (const segment of raw) {
    if (segment === '..') return { ok: false, reason: PathReason.dotDot(path) };
    if (segment === '') return { ok: false, reason: PathReason.emptySegment(path) };
    if (segment.length > MAX_SEGMENT_CHARS) return { ok: false, reason: PathReason.segmentTooLong(path) };
    if (segment !== '.') segments.push(segment);
  }
  if (segments.length === 0 && options.allowRoot !== true) return { ok: false, reason: PathReason.isRoot(path) };
  return { ok: true, segments, normalized: segments.length === 0 ? '.' : segments.join('/') };
}

/**
 * True when `segments` (a checked, normalised path) lies strictly inside one of `rootSegments`
 * (each a checked, normalised root; an empty list means the whole workspace). A path equal to a
 * root is the root folder itself, not something inside it. Pure.
 */
export function isInsideRoots(segments: readonly string[], rootSegments: readonly (readonly string[])[]): boolean {
  return rootSegments.some(
    (root) => segments.length > root.length && root.every((part, index) => segments[index] === part),
  );
}
