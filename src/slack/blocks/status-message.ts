/**
 * The live status of a task (one message per task, updated in place) and of each sub-agent (one
 * post per sub-agent in the parent thread, with a Kill button). Pure functions of run documents;
 * every model, tool and user string is escaped. Long histories and large trees are summarised so
 * the message stays far below Slack's limits (60 steps or 30 children still fit).
 */
import { TERMINAL_STATUSES, type RunDoc, type RunState } from '../../store/run-schema.ts';
import { encodeAgentAction, ActionIds } from './action-ids.ts';
import type { KnownBlock } from './block-kit-schema.ts';
import { RUN_STATUS_LABEL, STEP_STATUS_EMOJI, formatCount, formatDuration } from './format.ts';
import { context, section } from './gate-parts.ts';
import { checkedMessage } from './guard.ts';
import { escapeAndTruncate, inlineCode, inlineText, plainText, splitForSlack, userMention } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

const TASK_MAX = 300;
const ROLE_MAX = 60;
const TOOL_MAX = 80;
const RECENT_STEPS = 5;
/** Children listed one per line; the rest are counted. */
const CHILDREN_SHOWN = 25;
const SECTION_MAX = 2900;

/** Options of {@link renderRunStatus}. */
export interface RunStatusOptions {
  /**
   * The loaded sub-agent run documents, in the order to show them (depth first: a child, then its
   * own children); deeper ones are indented by their depth below the run.
   */
  children?: readonly RunDoc[];
  /** Where the run waits for a slot of the global cap (`queued — position N of M`), if it does. */
  queue?: { position: number; of: number } | null;
}

/** Options of {@link renderSubagentStatus}. */
export interface SubagentStatusOptions {
  /** Whether to offer the Kill button (the caller decides who may kill; the handler re-checks). */
  canKill: boolean;
}

function isTerminal(run: RunState): boolean {
  return TERMINAL_STATUSES.includes(run.status);
}

function elapsed(run: RunState, now: number): string {
  return formatDuration((isTerminal(run) ? run.updatedAt : now) - run.createdAt);
}

function pendingTools(run: RunState): string[] {
  return run.gates.filter((gate) => gate.status === 'pending').map((gate) => gate.tool);
}

/** What the run is doing now, in one escaped line. */
function activityLine(run: RunState, queue: RunStatusOptions['queue'] = null): string {
  switch (run.status) {
    case 'waiting_approval': {
      const tools = pendingTools(run);
      const names = tools.length === 0 ? 'a tool call' : tools.slice(0, 3).map((tool) => inlineCode(tool, TOOL_MAX)).join(', ');
      return `:raised_hand: Waiting for approval of ${names}${tools.length > 3 ? ` and ${tools.length - 3} more` : ''}`;
    }
    case 'needs_attention':
      return `:warning: Needs attention: ${escapeAndTruncate(run.attention?.reason ?? 'a step was interrupted', 500)}`;
    case 'completed':
      return ':white_check_mark: Finished.';
    case 'failed':
      return `:x: Failed: ${run.error === null ? 'unknown error' : `${inlineCode(run.error.code, 60)} ${escapeAndTruncate(run.error.message, 500)}`}`;
    case 'cancelled':
      return `:no_entry_sign: ${run.error === null ? 'Cancelled.' : escapeAndTruncate(run.error.message, 500)}`;
    case 'queued':
      if (queue !== null && queue !== undefined) {
        return `:hourglass: Queued — position ${formatCount(queue.position)} of ${formatCount(queue.of)}; it starts when a slot frees up.`;
      }
      return run.parentRunId === null ? ':hourglass: Queued.' : ':seedling: Drafted; starting…';
    case 'running': {
      const step = run.steps.at(-1);
      return step === undefined ? ':thought_balloon: Thinking…' : `Current step: ${inlineCode(step.tool, TOOL_MAX)} (${step.status.replace(/_/g, ' ')})`;
    }
  }
}

function recentSteps(run: RunState): string | null {
  if (run.steps.length === 0) return null;
  const recent = run.steps.slice(-RECENT_STEPS);
  const lines = recent.map((step) => `${STEP_STATUS_EMOJI[step.status]} ${inlineCode(step.tool, TOOL_MAX)} ${step.status.replace(/_/g, ' ')}`);
  const earlier = run.steps.length - recent.length;
  return `*Recent steps*${earlier > 0 ? ` (${formatCount(earlier)} earlier)` : ''}\n${lines.join('\n')}`;
}

function usageLine(run: RunState, now: number): string {
  const { usage, budgets } = run;
  const tokens = usage.inputTokens + usage.outputTokens;
  return [
    `elapsed ${elapsed(run, now)}`,
    `tokens ${formatCount(tokens)} (in ${formatCount(usage.inputTokens)} / out ${formatCount(usage.outputTokens)})`,
    `tool calls ${formatCount(usage.toolCalls)}/${formatCount(budgets.maxToolCalls)}`,
    `turns ${formatCount(usage.turns)}/${formatCount(budgets.maxTurns)}`,
    `run ${inlineCode(run.runId, 90)}`,
  ].join(' · ');
}

function childLine(child: RunState, baseDepth: number): string {
  const current =
    child.status === 'waiting_approval'
      ? ` · waiting for ${pendingTools(child).slice(0, 1).map((tool) => inlineCode(tool, TOOL_MAX)).join('') || 'approval'}`
      : child.steps.length > 0 && !isTerminal(child)
        ? ` · ${inlineCode(child.steps.at(-1)?.tool ?? '', TOOL_MAX)}`
        : '';
  const indent = '\u2003'.repeat(Math.max(0, Math.min(4, child.depth - baseDepth - 1)));
  const tokens = child.usage.inputTokens + child.usage.outputTokens;
  const usage = tokens > 0 ? ` · ${formatCount(tokens)} tokens` : '';
  return `${indent}• ${RUN_STATUS_LABEL[child.status].emoji} *${inlineText(child.role, ROLE_MAX) || '-'}* — ${RUN_STATUS_LABEL[child.status].label}${current}${usage}`;
}

function childBlocks(children: readonly RunDoc[], declared: number, baseDepth: number): KnownBlock[] {
  const total = Math.max(children.length, declared);
  const shown = children.slice(0, CHILDREN_SHOWN).map((doc) => childLine(doc.run, baseDepth));
  const more = total - shown.length;
  const text = `*Sub-agents (${formatCount(total)})*\n${shown.join('\n')}${more > 0 ? `\n…and ${formatCount(more)} more` : ''}`;
  return splitForSlack(text, SECTION_MAX).map((chunk) => section(chunk));
}

/**
 * The one status message of a task: role, status with emoji, task, what it is doing now
 * ("waiting for approval of <tool>" when paused), the last few steps, usage (elapsed, tokens,
 * tool calls, turns) and, with `children`, one line per sub-agent (role, status, current tool).
 * Guarantees: escaped text only; at most ~8 blocks for any number of steps or children.
 * @throws InvariantError only on a renderer bug.
 */
export function renderRunStatus(doc: RunDoc, now: number, options: RunStatusOptions = {}): SlackMessage {
  const { run } = doc;
  const role = inlineText(run.role, ROLE_MAX) || '-';
  const blocks: KnownBlock[] = [
    section(`${RUN_STATUS_LABEL[run.status].emoji} *${role}* · ${RUN_STATUS_LABEL[run.status].label}\n*Task:* ${inlineText(run.task, TASK_MAX) || '-'}`),
    section(activityLine(run, options.queue)),
  ];
  const steps = recentSteps(run);
  if (steps !== null) blocks.push(section(steps));
  const children = options.children ?? [];
  if (children.length > 0 || run.children.length > 0) blocks.push(...childBlocks(children, run.children.length, run.depth));
  blocks.push(context(usageLine(run, now)));
  const queue = options.queue;
  const label =
    run.status === 'waiting_approval'
      ? `waiting for approval of ${pendingTools(run).map((tool) => inlineText(tool, TOOL_MAX)).join(', ') || 'a tool call'}`
      : run.status === 'queued' && queue !== null && queue !== undefined
        ? `queued — position ${String(queue.position)} of ${String(queue.of)}`
        : RUN_STATUS_LABEL[run.status].label;
  return checkedMessage('renderRunStatus', { text: `${role}: ${label}`, blocks });
}

/** The user who cancelled the run, from its last `run_cancelled` event. */
function cancelledBy(doc: RunDoc): { by: string; reason: string } | null {
  for (let i = doc.trace.length - 1; i >= 0; i -= 1) {
    const event = doc.trace[i];
    if (event?.event !== 'run_cancelled') continue;
    const by = event.detail['by'];
    const reason = event.detail['reason'];
    return { by: typeof by === 'string' ? by : 'unknown', reason: typeof reason === 'string' ? reason : '' };
  }
  return null;
}

/**
 * One sub-agent's post: role, lineage, status, task, current activity, usage, and a Kill button
 * (`agent_kill`, value `{runId}` only, behind a confirm dialog) while it is not terminal and
 * `canKill`. A run cancelled by a user says "Killed by <@U…>".
 * @throws InvariantError only on a renderer bug.
 */
export function renderSubagentStatus(child: RunDoc, now: number, options: SubagentStatusOptions): SlackMessage {
  const { run } = child;
  const role = inlineText(run.role, ROLE_MAX) || '-';
  const lineage = inlineText(run.lineage.join(' → '), 200) || role;
  let activity = activityLine(run);
  if (run.status === 'cancelled') {
    const cancel = cancelledBy(child);
    if (cancel !== null) {
      const reason = cancel.reason === '' || cancel.reason === 'cancelled' ? '' : `: ${escapeAndTruncate(cancel.reason, 500)}`;
      activity = `:no_entry_sign: Killed by ${userMention(cancel.by)}${reason}`;
    }
  }
  const blocks: KnownBlock[] = [
    section(`${RUN_STATUS_LABEL[run.status].emoji} *Sub-agent ${role}* · ${RUN_STATUS_LABEL[run.status].label}\n*Lineage:* ${lineage}\n*Task:* ${inlineText(run.task, TASK_MAX) || '-'}`),
    section(activity),
    context(usageLine(run, now)),
  ];
  if (options.canKill && !isTerminal(run)) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: plainText('Kill', 75),
          action_id: ActionIds.agentKill,
          value: encodeAgentAction(run.runId),
          style: 'danger',
          confirm: {
            title: plainText('Kill this sub-agent?', 100),
            text: { type: 'mrkdwn', text: `Stop sub-agent *${role}* (${inlineCode(run.runId, 90)}) and its own sub-agents. Work in progress is cancelled.` },
            confirm: plainText('Kill', 30),
            deny: plainText('Cancel', 30),
            style: 'danger',
          },
        },
      ],
    });
  }
  return checkedMessage('renderSubagentStatus', { text: `Sub-agent ${role}: ${RUN_STATUS_LABEL[run.status].label}`, blocks });
}
