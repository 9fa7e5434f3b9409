/**
 * The approval card (DESIGN.md §3, RELIABILITY.md P14) and its later states. Pure functions of the
 * persisted run and gate: the same gate always renders the same card, so a retried post or a
 * `chat.update` after a restart shows exactly what was persisted.
 *
 * Layout: header · facts (tool, category, risk, requester, lineage, run, expiry, approvers) ·
 * reason · the exact arguments (escaped, truncated to fit, with "View all") · task · args hash ·
 * then a state line and/or buttons. Worst-case text is ~12k characters and ~10 blocks, inside
 * Slack's 13k total and 50 blocks whatever the arguments hold (budget in {@link ARGS_MAX}).
 */
import { hashPrefix } from '../../approvals/args-hash.ts';
import type { Gate, RunState } from '../../store/run-schema.ts';
import type { KnownBlock } from './block-kit-schema.ts';
import { formatCount } from './format.ts';
import {
  FIELD_MAX,
  approversText,
  argsBlock,
  context,
  expiryText,
  gateButtons,
  hashText,
  lineageText,
  requestAgainButton,
  requesterText,
  riskText,
  section,
} from './gate-parts.ts';
import { checkedMessage } from './guard.ts';
import { escapeAndTruncate, inlineCode, inlineText, plainText, slackDate, slackLink, userMention } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

/** Characters of the arguments section (label + code block); Slack's section limit is 3000. */
export const ARGS_MAX = 2900;
/** Per arguments section when a card shows both the proposed and the edited arguments. */
const ARGS_MAX_EDITED = 2400;
const REASON_MAX = 1000;
const TASK_MAX = 300;
const HEADER_MAX = 150;

/** Input of {@link renderApprovalCard}. */
export interface ApprovalCardInput {
  run: RunState;
  gate: Gate;
  /** http(s) base of a run page; the run id links to `${base}/runs/<runId>` when given. */
  permalinkBase?: string;
  now: number;
}

interface BodyOptions {
  header: string;
  now: number | null;
  permalinkBase: string | undefined;
  /** Where the full arguments can be seen when the card truncates them. */
  viewAllHint: string;
}

interface CardBody {
  blocks: KnownBlock[];
  truncated: boolean;
}

function cardBody(run: RunState, gate: Gate, options: BodyOptions): CardBody {
  const runText = options.permalinkBase === undefined ? inlineCode(gate.runId, 90) : slackLink(options.permalinkBase, ['runs', gate.runId], gate.runId);
  const expires = options.now === null ? slackDate(gate.expiresAt) : expiryText(gate, options.now);
  const field = (label: string, value: string) => ({ type: 'mrkdwn' as const, text: `*${label}*\n${value}` });
  const blocks: KnownBlock[] = [
    { type: 'header', text: plainText(options.header, HEADER_MAX) },
    {
      type: 'section',
      fields: [
        field('Tool', inlineCode(gate.tool, FIELD_MAX)),
        field('Category', inlineText(gate.category, FIELD_MAX)),
        field('Risk', riskText(gate.risk)),
        field('Requested by', requesterText(gate.requestedBy)),
        field('Role lineage', lineageText(gate.lineage)),
        field('Run', runText),
        field('Expires', expires),
        field('Approvers', approversText(gate)),
      ],
    },
    section(`*Reason*\n${escapeAndTruncate(gate.reason, REASON_MAX) || '-'}`),
  ];
  const edited = gate.status === 'approved' && gate.editedArgs !== null;
  const argsLabel = edited ? '*Arguments as proposed*\n' : '*Arguments*\n';
  const proposed = argsBlock(gate.args, (edited ? ARGS_MAX_EDITED : ARGS_MAX) - argsLabel.length);
  blocks.push(section(argsLabel + proposed.text));
  let truncated = proposed.truncated;
  let fullLength = proposed.fullLength;
  if (edited) {
    const editedLabel = '*Approved arguments (edited)*\n';
    const approved = argsBlock(gate.editedArgs, ARGS_MAX_EDITED - editedLabel.length);
    blocks.push(section(editedLabel + approved.text));
    truncated ||= approved.truncated;
    fullLength = Math.max(fullLength, approved.fullLength);
  }
  if (truncated) {
    blocks.push(
      context(`:scissors: Excerpt only: the arguments are ${formatCount(fullLength)} characters. ${options.viewAllHint} The args hash covers all of them.`),
    );
  }
  blocks.push(context(`*Task:* ${inlineText(run.task, TASK_MAX) || '-'}`));
  blocks.push(context(`${hashText(gate.argsHash)} · policy ${inlineCode(gate.policyVersion, 80)} · gate ${inlineCode(gate.gateId, 90)}`));
  return { blocks, truncated };
}

function fallback(prefix: string, gate: Gate): string {
  return `${prefix}: ${inlineText(gate.tool, 200)} (${gate.risk} risk) for run ${inlineText(gate.runId, 90)}`;
}

/**
 * The card for a pending gate, with Approve (confirm dialog), Reject, Edit arguments and, when the
 * arguments were truncated, View all. Button values carry `{runId, gateId, nonce}` only.
 * Guarantees: every model/tool/user string is escaped; the result passes `validateMessageBlocks`
 * for any argument size (a 1 MB argument becomes an excerpt plus the hash).
 * @throws InvariantError only on a renderer bug (output failing the Block Kit schema).
 */
export function renderApprovalCard(input: ApprovalCardInput): SlackMessage {
  const { run, gate } = input;
  // A sub-agent's gate says whose it is: "pm → writer wants workspace_write".
  const header = gate.lineage.length > 1 ? `${gate.lineage.join(' → ')} wants ${gate.tool}` : `Approval needed: ${gate.tool}`;
  const body = cardBody(run, gate, {
    header,
    now: input.now,
    permalinkBase: input.permalinkBase,
    viewAllHint: '*View all* shows them in full.',
  });
  const blocks = [...body.blocks, { type: 'actions' as const, elements: gateButtons(gate, body.truncated) }];
  const prefix = gate.lineage.length > 1 ? `Approval needed (${inlineText(gate.lineage.join(' → '), 200)})` : 'Approval needed';
  return checkedMessage('renderApprovalCard', { text: fallback(prefix, gate), blocks });
}

function when(at: number | null): string {
  return at === null ? 'an unknown time' : slackDate(at);
}

function decidedLine(run: RunState, gate: Gate): { header: string; line: string } {
  const by = userMention(gate.decidedBy ?? 'unknown');
  const via = gate.decisionSource === null ? '' : ` via ${inlineText(gate.decisionSource, 40)}`;
  const reason = gate.decisionReason === null || gate.decisionReason === '' ? '' : escapeAndTruncate(gate.decisionReason, REASON_MAX);
  switch (gate.status) {
    case 'approved': {
      const note = reason === '' ? '' : ` — ${reason}`;
      if (gate.editedArgs !== null) {
        const newHash = inlineCode(hashPrefix(gate.approvedHash ?? ''), 20);
        return { header: 'Approved (edited)', line: `:pencil2: Edited by ${by} then approved at ${when(gate.decidedAt)}${via} (new hash ${newHash})${note}` };
      }
      return { header: 'Approved', line: `:white_check_mark: Approved by ${by} at ${when(gate.decidedAt)}${via}${note}` };
    }
    case 'rejected':
      return { header: 'Rejected', line: `:no_entry: Rejected by ${by} at ${when(gate.decidedAt)}${via}: ${reason || 'no reason given'}` };
    case 'expired':
      return {
        header: 'Expired',
        line: `:hourglass: Expired at ${slackDate(gate.expiresAt)} — nobody decided in time. *Request again* asks for a new approval.`,
      };
    case 'cancelled': {
      const why = run.error === null ? 'the run ended before anyone decided' : escapeAndTruncate(run.error.message, REASON_MAX);
      return { header: 'Cancelled', line: `:no_entry_sign: Cancelled — ${why}` };
    }
    case 'pending':
      return { header: 'Approval needed', line: ':hourglass_flowing_sand: Waiting for a decision.' };
  }
}

/**
 * The card after a decision: the same facts, no decision buttons, and a line saying who decided
 * what and when ("Approved by …", "Rejected by …: reason", "Edited by … then approved (new hash
 * …)", "Expired at …" with a Request again button, "Cancelled"). Passes `validateMessageBlocks`.
 * @throws InvariantError only on a renderer bug.
 */
export function renderDecidedCard(run: RunState, gate: Gate): SlackMessage {
  const { header, line } = decidedLine(run, gate);
  const body = cardBody(run, gate, {
    header: `${header}: ${gate.tool}`,
    now: null,
    permalinkBase: undefined,
    viewAllHint: `\`harness pending ${inlineText(gate.runId, 90)}\` shows them in full.`,
  });
  const blocks: KnownBlock[] = [...body.blocks, context(line)];
  if (gate.status === 'expired') blocks.push({ type: 'actions', elements: [requestAgainButton(gate)] });
  return checkedMessage('renderDecidedCard', { text: fallback(header, gate), blocks });
}

/**
 * The card between a click and the resume: the same facts, no buttons (so nobody clicks twice),
 * and "Processing approval by <@user>…". Passes `validateMessageBlocks`.
 * @throws InvariantError only on a renderer bug.
 */
export function renderProcessingCard(run: RunState, gate: Gate, byUserId: string): SlackMessage {
  const body = cardBody(run, gate, {
    header: `Processing: ${gate.tool}`,
    now: null,
    permalinkBase: undefined,
    viewAllHint: `\`harness pending ${inlineText(gate.runId, 90)}\` shows them in full.`,
  });
  const blocks = [...body.blocks, context(`:hourglass_flowing_sand: Processing approval by ${userMention(byUserId)}…`)];
  return checkedMessage('renderProcessingCard', { text: fallback('Processing approval', gate), blocks });
}
