/**
 * Turning what a person typed in Slack into a task: the bot's own mention is removed, Slack's
 * entity markup is kept (the model sees `<@U123>` as the user wrote it), and follow-ups get the
 * thread's previous task and result as context within the input budget.
 */
import type { RunState } from '../../store/run-schema.ts';

/**
 * Removes every mention of the bot (`<@UBOT>` or `<@UBOT|name>`) and trims; other mentions stay.
 * Whitespace runs left by the removal collapse to one space.
 */
export function stripBotMention(text: string, botUserId: string): string {
  const escaped = botUserId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`<@${escaped}(?:\\|[^>]*)?>`, 'g'), ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** True when `text` mentions the bot. */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** Characters kept of the previous task and of its result in a follow-up's context. */
const CONTEXT_PART_MAX = 2000;

function clip(text: string, max: number): string {
  if (max <= 0) return '';
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * The task of a follow-up run: the new request first (the scripted model and readers look at the
 * start), then the previous run's task and result as context, clipped so the whole stays within
 * `maxChars`. The request itself is never clipped: the caller refuses one over the budget first.
 */
export function composeFollowUpTask(request: string, previous: Pick<RunState, 'runId' | 'task' | 'result' | 'status' | 'error'>, maxChars: number): string {
  const head = request.trim();
  const outcome = previous.result ?? (previous.error === null ? `(${previous.status}, no result)` : `(${previous.status}: ${previous.error.message})`);
  const intro = `\n\n---\nContext: a follow-up in the thread of run ${previous.runId}.`;
  const room = maxChars - head.length - intro.length - '\nPrevious task: '.length - '\nPrevious result: '.length;
  if (room < 40) return head;
  const each = Math.min(CONTEXT_PART_MAX, Math.floor(room / 2));
  return `${head}${intro}\nPrevious task: ${clip(previous.task, each)}\nPrevious result: ${clip(outcome, each)}`;
}
