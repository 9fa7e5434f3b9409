/**
 * The App Home tab: approvals the viewer may decide (with the card's buttons), the viewer's active
 * runs, and recent results. Lists are cut with "and N more" so the view stays within the 100-block
 * limit whatever the store holds.
 */
import { authorizeDecision } from '../../approvals/authorize.ts';
import type { Gate, RunDoc, RunState } from '../../store/run-schema.ts';
import type { KnownBlock } from './block-kit-schema.ts';
import { RUN_STATUS_LABEL, formatCount, formatDuration } from './format.ts';
import {
  argsBlock,
  context,
  expiryText,
  gateButtons,
  hashText,
  lineageText,
  requesterText,
  riskText,
  section,
} from './gate-parts.ts';
import { checkedView } from './guard.ts';
import { escapeAndTruncate, inlineCode, inlineText, plainText, splitForSlack } from './mrkdwn.ts';
import type { HomeView } from './types.ts';

/** Pending approvals shown (5 blocks each). */
const PENDING_SHOWN = 10;
const ACTIVE_SHOWN = 20;
const RECENT_SHOWN = 10;
/** The short argument excerpt on Home; "View all" opens the full modal. */
const HOME_ARGS_MAX = 600;
const SECTION_MAX = 2900;

/** Input of {@link renderAppHome}. */
export interface AppHomeInput {
  viewerId: string;
  /** Candidate pending gates; only those the viewer may decide now are shown. */
  pending: readonly { run: RunState; gate: Gate }[];
  /** The viewer's active runs (the caller selects them). */
  active: readonly RunDoc[];
  /** Recently finished runs, newest first. */
  recent: readonly RunDoc[];
  now: number;
}

/**
 * True when `viewerId` may decide `gate` now: pending, not expired, an approver, and not the
 * requester under four-eyes (the same rule as `authorizeDecision`, which the click re-checks).
 */
export function canDecide(gate: Gate, viewerId: string, now: number): boolean {
  return gate.status === 'pending' && gate.expiresAt > now && authorizeDecision(gate, viewerId) === null;
}

function pendingBlocks(run: RunState, gate: Gate, now: number): KnownBlock[] {
  const args = argsBlock(gate.args, HOME_ARGS_MAX);
  return [
    section(
      `*${inlineCode(gate.tool, 200)}* · ${riskText(gate.risk)} · ${inlineText(gate.category, 60)}\n` +
        `Requested by ${requesterText(gate.requestedBy)} · ${lineageText(gate.lineage)} · run ${inlineCode(gate.runId, 90)}\n` +
        `*Reason:* ${escapeAndTruncate(gate.reason, 500) || '-'}\n*Task:* ${inlineText(run.task, 200) || '-'}`,
    ),
    section(args.text),
    context(`${hashText(gate.argsHash)} · expires ${expiryText(gate, now)}${args.truncated ? ` · excerpt of ${formatCount(args.fullLength)} characters` : ''}`),
    { type: 'actions', elements: gateButtons(gate, true) },
    { type: 'divider' },
  ];
}

/** Packs lines into as few sections as fit, and adds "and N more" for the cut part of a list. */
function listBlocks(lines: string[], total: number, empty: string): KnownBlock[] {
  if (total === 0) return [context(empty)];
  const more = total - lines.length;
  const text = lines.join('\n') + (more > 0 ? `\n…and ${formatCount(more)} more` : '');
  return splitForSlack(text, SECTION_MAX).map((chunk) => section(chunk));
}

function runLine(doc: RunDoc, now: number): string {
  const { run } = doc;
  const status = RUN_STATUS_LABEL[run.status];
  const end = ['completed', 'failed', 'cancelled'].includes(run.status) ? run.updatedAt : now;
  return `${status.emoji} *${inlineText(run.role, 60) || '-'}* — ${inlineText(run.task, 120) || '-'} · ${status.label} · ${formatDuration(end - run.createdAt)} · ${inlineCode(run.runId, 90)}`;
}

function recentLine(doc: RunDoc): string {
  const { run } = doc;
  const outcome =
    run.status === 'completed'
      ? inlineText(run.result ?? '', 160) || 'no written answer'
      : inlineText(run.error?.message ?? run.status, 160);
  return `${RUN_STATUS_LABEL[run.status].emoji} *${inlineText(run.role, 60) || '-'}* — ${inlineText(run.task, 100) || '-'} → ${outcome}`;
}

/**
 * The Home tab for `viewerId`. Pending approvals get the same Approve (confirm) / Reject / Edit /
 * View all buttons as the card, with a short argument excerpt; at most 10 are shown, 20 active
 * runs and 10 recent results, each list ending in "and N more" when cut. Validated with
 * `validateViewBlocks` (≤ 100 blocks). Escaped text only.
 * @throws InvariantError only on a renderer bug.
 */
export function renderAppHome(input: AppHomeInput): HomeView {
  const { viewerId, now } = input;
  const decidable = input.pending.filter(({ gate }) => canDecide(gate, viewerId, now));
  const blocks: KnownBlock[] = [{ type: 'header', text: plainText(`Waiting for your approval (${decidable.length})`, 150) }];
  if (decidable.length === 0) blocks.push(context('Nothing is waiting for your decision.'));
  for (const { run, gate } of decidable.slice(0, PENDING_SHOWN)) blocks.push(...pendingBlocks(run, gate, now));
  if (decidable.length > PENDING_SHOWN) {
    blocks.push(context(`…and ${formatCount(decidable.length - PENDING_SHOWN)} more. \`harness pending\` lists them all.`));
  }
  blocks.push({ type: 'header', text: plainText(`Your active runs (${input.active.length})`, 150) });
  blocks.push(...listBlocks(input.active.slice(0, ACTIVE_SHOWN).map((doc) => runLine(doc, now)), input.active.length, 'No runs in progress.'));
  blocks.push({ type: 'header', text: plainText('Recent results', 150) });
  blocks.push(...listBlocks(input.recent.slice(0, RECENT_SHOWN).map((doc) => recentLine(doc)), input.recent.length, 'Nothing finished yet.'));
  return checkedView('renderAppHome', { type: 'home', blocks });
}
