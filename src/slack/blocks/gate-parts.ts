/**
 * Pieces of a gate shared by the approval card and App Home: the facts an approver must see, the
 * argument excerpt, and the decision buttons. Every value from the gate is escaped here.
 */
import { hashPrefix } from '../../approvals/args-hash.ts';
import type { Gate } from '../../store/run-schema.ts';
import { ActionIds, encodeGateAction } from './action-ids.ts';
import type { ButtonElement, KnownBlock } from './block-kit-schema.ts';
import { RISK_EMOJI, formatRelative } from './format.ts';
import { fitCodeBlock, inlineCode, inlineText, plainText, slackDate, userMention, type FittedCodeBlock } from './mrkdwn.ts';

/** Longest text of one section field we emit (Slack allows 2000). */
export const FIELD_MAX = 300;

/** Pretty JSON of a stored argument value (the same value the hash covers). */
export function prettyArgs(args: unknown): string {
  return JSON.stringify(args, null, 2) ?? 'null';
}

/** A mrkdwn section. */
export function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A context block of mrkdwn lines (at most 10, Slack's limit). */
export function context(...lines: string[]): KnownBlock {
  return { type: 'context', elements: lines.slice(0, 10).map((text) => ({ type: 'mrkdwn' as const, text })) };
}

/** `requested by` as shown: a mention for a Slack user id, else the escaped name, plus the source. */
export function requesterText(requestedBy: Gate['requestedBy']): string {
  return `${userMention(requestedBy.userId)} (${requestedBy.source})`;
}

/** `pm → writer`, escaped. */
export function lineageText(lineage: readonly string[]): string {
  return lineage.length === 0 ? '-' : inlineText(lineage.join(' → '), FIELD_MAX);
}

/** `<mention>, <mention> and 3 more`, at most five mentions. */
export function approversText(gate: Gate): string {
  const shown = gate.approvers.slice(0, 5).map((id) => userMention(id));
  const more = gate.approvers.length - shown.length;
  const list = shown.length === 0 ? 'nobody (ask an operator)' : shown.join(', ') + (more > 0 ? ` and ${more} more` : '');
  return gate.fourEyes ? `${list}; four-eyes: not the requester` : list;
}

/** Expiry as a Slack date token plus a relative hint. */
export function expiryText(gate: Gate, now: number): string {
  return `${slackDate(gate.expiresAt)} (${formatRelative(gate.expiresAt, now)})`;
}

/** The risk with its emoji. */
export function riskText(risk: Gate['risk']): string {
  return `${RISK_EMOJI[risk]} ${risk}`;
}

/** The arguments as an escaped, fenced code block of at most `max` characters. */
export function argsBlock(args: unknown, max: number): FittedCodeBlock & { fullLength: number } {
  const pretty = prettyArgs(args);
  return { ...fitCodeBlock(pretty, max), fullLength: pretty.length };
}

/** `args hash \`abcdef123456\``. */
export function hashText(hash: string): string {
  return `args hash ${inlineCode(hashPrefix(hash), 20)}`;
}

function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): ButtonElement {
  const element: ButtonElement = { type: 'button', text: plainText(text, 75), action_id: actionId, value };
  if (style !== undefined) element.style = style;
  return element;
}

/**
 * Approve (primary, behind a confirm dialog naming the tool and hash), Reject (danger), Edit
 * arguments, and View all when `withViewAll`. Every value is the gate action JSON only.
 */
export function gateButtons(gate: Gate, withViewAll: boolean): ButtonElement[] {
  const value = encodeGateAction(gate);
  const approve = button('Approve', ActionIds.approve, value, 'primary');
  approve.confirm = {
    title: plainText('Approve this action?', 100),
    text: {
      type: 'mrkdwn',
      text: `Run ${inlineCode(gate.tool, 80)} with the arguments shown on the card (${hashText(gate.argsHash)})?`,
    },
    confirm: plainText('Approve', 30),
    deny: plainText('Cancel', 30),
    style: 'primary',
  };
  const buttons = [approve, button('Reject', ActionIds.reject, value, 'danger'), button('Edit arguments', ActionIds.edit, value)];
  if (withViewAll) buttons.push(button('View all', ActionIds.viewArgs, value));
  return buttons;
}

/** The "Request again" button of an expired card. */
export function requestAgainButton(gate: Gate): ButtonElement {
  return button('Request again', ActionIds.requestAgain, encodeGateAction(gate), 'primary');
}
