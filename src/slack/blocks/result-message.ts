/**
 * The end of a task in its thread: the final answer (escaped, split across as many messages as it
 * needs), the files the run produced, or a clear failure with what to do next. Pure functions of
 * the run document.
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { RunDoc, RunState } from '../../store/run-schema.ts';
import type { KnownBlock } from './block-kit-schema.ts';
import { RUN_STATUS_LABEL, formatBytes, formatCount, formatDuration } from './format.ts';
import { context, section } from './gate-parts.ts';
import { checkedMessage } from './guard.ts';
import { escapeAndTruncate, escapeMrkdwn, inlineCode, inlineText, safeCut, splitForSlack, truncate } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

/** Characters per answer section (Slack allows 3000). */
const CHUNK_MAX = 2900;
/** Answer sections per message: 3 × 2900 stays well under the ~13k total per message. */
const CHUNKS_PER_MESSAGE = 3;
/** Messages an answer may take; longer answers are cut (posting hundreds would flood the thread). */
export const MAX_RESULT_MESSAGES = 4;
const MAX_CHUNKS = MAX_RESULT_MESSAGES * CHUNKS_PER_MESSAGE;
const FILES_SHOWN = 20;
const FALLBACK_MAX = 300;

function roleOf(run: RunState): string {
  return inlineText(run.role, 60) || '-';
}

function summaryLine(run: RunState): string {
  const tokens = run.usage.inputTokens + run.usage.outputTokens;
  return `${formatDuration(run.updatedAt - run.createdAt)} · ${formatCount(tokens)} tokens · ${formatCount(run.usage.toolCalls)} tool calls · run ${inlineCode(run.runId, 90)}`;
}

/** One section listing the produced files; lines that do not fit are counted instead. */
function filesBlock(run: RunState): KnownBlock | null {
  if (run.files.length === 0) return null;
  const head = `*Files produced (${formatCount(run.files.length)})*`;
  const lines: string[] = [];
  let length = head.length + 40;
  for (const file of run.files.slice(0, FILES_SHOWN)) {
    const line = `• ${inlineCode(file.path, 300)} — ${formatBytes(file.bytes)} · sha256 ${inlineCode(file.sha256.slice(0, 12), 20)}`;
    if (length + line.length + 1 > CHUNK_MAX) break;
    lines.push(line);
    length += line.length + 1;
  }
  const more = run.files.length - lines.length;
  return section(`${head}\n${lines.join('\n')}${more > 0 ? `\n…and ${formatCount(more)} more` : ''}`);
}

/** The escaped answer in sections, at most {@link MAX_CHUNKS}; huge answers are cut before escaping. */
function answerChunks(answer: string): { chunks: string[]; truncated: boolean } {
  if (answer.trim() === '') return { chunks: ['_The run finished without a written answer._'], truncated: false };
  const capacity = MAX_CHUNKS * CHUNK_MAX;
  const head = answer.length > capacity ? answer.slice(0, safeCut(answer, capacity)) : answer;
  const all = splitForSlack(escapeMrkdwn(head), CHUNK_MAX);
  const truncated = head.length < answer.length || all.length > MAX_CHUNKS;
  const chunks = all.slice(0, MAX_CHUNKS);
  if (truncated) {
    const last = chunks.length - 1;
    chunks[last] = truncate(`${chunks[last] ?? ''}…`, CHUNK_MAX);
  }
  return { chunks, truncated };
}

/**
 * The final answer as one or more messages, in posting order. The answer is escaped, then split on
 * paragraph/line boundaries into sections of ≤ 2900 characters, three per message, in at most
 * {@link MAX_RESULT_MESSAGES} messages (a longer answer is cut, with a note pointing at
 * `harness inspect`). Continuation messages say "part i of n"; produced files are listed last
 * (in a message of their own when the last one is full). Every message passes
 * `validateMessageBlocks`. A run without a result gives one message saying so.
 * @throws InvariantError only on a renderer bug.
 */
export function renderResult(doc: RunDoc): SlackMessage[] {
  const { run } = doc;
  const role = roleOf(run);
  const answer = run.result ?? '';
  const { chunks, truncated } = answerChunks(answer);
  const groups: string[][] = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_MESSAGE) groups.push(chunks.slice(i, i + CHUNKS_PER_MESSAGE));
  const files = filesBlock(run);
  // The file list gets its own message rather than pushing a full one past the total-text limit.
  if (files !== null && (groups.at(-1)?.length ?? 0) >= CHUNKS_PER_MESSAGE) groups.push([]);
  const excerpt = escapeAndTruncate(answer.replace(/\s+/g, ' ').trim(), FALLBACK_MAX);
  return groups.map((group, index) => {
    const first = index === 0;
    const last = index === groups.length - 1;
    const blocks: KnownBlock[] = [];
    if (first) blocks.push(section(`${RUN_STATUS_LABEL[run.status].emoji} *${role}* finished`));
    else blocks.push(context(`_${role}, continued (part ${index + 1} of ${groups.length})_`));
    blocks.push(...group.map((chunk) => section(chunk)));
    if (last) {
      if (truncated) {
        blocks.push(
          context(`:scissors: The answer is ${formatCount(answer.length)} characters; Slack shows the first part. The full text: \`harness inspect ${inlineText(run.runId, 90)}\`.`),
        );
      }
      if (files !== null) blocks.push(files);
      blocks.push(context(summaryLine(run)));
    }
    const text = first ? `${role} finished: ${excerpt || 'no written answer'}` : `${role}, continued (part ${index + 1} of ${groups.length})`;
    return checkedMessage('renderResult', { text, blocks });
  });
}

function nextStep(run: RunState): string {
  const id = inlineText(run.runId, 90);
  switch (run.error?.code) {
    case ErrorCode.BudgetExceeded:
      return 'The run hit one of its budgets (turns, tool calls, time or tokens). Ask again with a narrower task, or ask an operator to raise the role\'s budget.';
    case ErrorCode.ModelUnavailable:
      return 'The model could not be reached. Try again in a few minutes; an operator can check the connection with `harness doctor`.';
    case ErrorCode.ModelBehavior:
    case ErrorCode.InvalidToolCall:
      return 'The model kept producing tool calls the harness could not run. Rephrase the request or try another role.';
    case ErrorCode.PolicyDenied:
      return 'Policy does not allow what the run needed. If it should, ask an operator (`harness policy`).';
    case ErrorCode.ToolFailed:
    case ErrorCode.ToolTimeout:
      return `A tool failed. An operator can see the details with \`harness trace-summary ${id}\`.`;
    case 'cancelled':
      return 'Someone cancelled the run. Mention me again to start a new one.';
    default:
      return `An operator can see the details with \`harness trace-summary ${id}\`. Mention me again to start a new request.`;
  }
}

/**
 * A clear failure (or cancellation) message: status, the error code and message (escaped), what to
 * do next for that code, and the run's usage. Passes `validateMessageBlocks`.
 * @throws InvariantError only on a renderer bug.
 */
export function renderFailure(doc: RunDoc): SlackMessage {
  const { run } = doc;
  const role = roleOf(run);
  const cancelled = run.status === 'cancelled';
  const code = run.error?.code ?? ErrorCode.Unknown;
  const message = run.error?.message ?? 'the run ended without an error message';
  const title = cancelled ? `:no_entry_sign: *${role}* was cancelled` : `:x: *${role}* failed`;
  const blocks: KnownBlock[] = [
    section(title),
    section(`*Error* ${inlineCode(code, 60)}\n${escapeAndTruncate(message, 1500) || '-'}`),
    section(`*What next*\n${nextStep(run)}`),
    context(summaryLine(run)),
  ];
  const text = `${role} ${cancelled ? 'was cancelled' : 'failed'}: ${escapeAndTruncate(message.replace(/\s+/g, ' '), FALLBACK_MAX)}`;
  return checkedMessage('renderFailure', { text, blocks });
}
