/**
 * Small, deterministic formatters shared by the renderers: durations, counts, sizes and the
 * emoji and labels for statuses. No locale or time-zone dependence (snapshots must be stable).
 */
import type { Risk, RunStatus, StepStatus } from '../../store/run-schema.ts';

/** `45s`, `3m 12s`, `2h 03m`, `3d 4h`; negative values are treated as 0. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${seconds}s`;
}

/** `in 14m 00s` before `at`, `2m 05s ago` after it. */
export function formatRelative(at: number, now: number): string {
  return at >= now ? `in ${formatDuration(at - now)}` : `${formatDuration(now - at)} ago`;
}

/** An integer with thousands separators: `12,345`. */
export function formatCount(value: number): string {
  const n = Math.round(Number.isFinite(value) ? value : 0);
  const sign = n < 0 ? '-' : '';
  return sign + String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `512 B`, `1.2 kB`, `3.4 MB` (powers of 1000). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${formatCount(bytes)} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Emoji and words for a run status. */
export const RUN_STATUS_LABEL: Readonly<Record<RunStatus, { emoji: string; label: string }>> = {
  queued: { emoji: ':hourglass:', label: 'queued' },
  running: { emoji: ':arrows_counterclockwise:', label: 'running' },
  waiting_approval: { emoji: ':raised_hand:', label: 'waiting for approval' },
  needs_attention: { emoji: ':warning:', label: 'needs attention' },
  completed: { emoji: ':white_check_mark:', label: 'completed' },
  failed: { emoji: ':x:', label: 'failed' },
  cancelled: { emoji: ':no_entry_sign:', label: 'cancelled' },
};

/** Emoji for a step status. */
export const STEP_STATUS_EMOJI: Readonly<Record<StepStatus, string>> = {
  proposed: ':thought_balloon:',
  invalid: ':grey_question:',
  denied: ':no_entry:',
  awaiting_approval: ':raised_hand:',
  approved: ':ballot_box_with_check:',
  rejected: ':no_entry:',
  started: ':gear:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  skipped: ':fast_forward:',
  cancelled: ':no_entry_sign:',
};

/** Emoji for a risk class. */
export const RISK_EMOJI: Readonly<Record<Risk, string>> = {
  read: ':large_green_circle:',
  write: ':large_yellow_circle:',
  external: ':large_orange_circle:',
  irreversible: ':red_circle:',
};
