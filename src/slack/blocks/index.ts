/**
 * Block Kit renderers for everything the bot posts: pure functions of persisted run documents that
 * escape untrusted text (P14) and stay within Slack's limits (checked by `block-kit-schema.ts`).
 */
export {
  ActionIds,
  AgentActionValue,
  CallbackIds,
  GateActionValue,
  MAX_BUTTON_VALUE,
  ModalInputs,
  decodeAgentAction,
  decodeGateAction,
  encodeAgentAction,
  encodeGateAction,
  type ActionId,
  type CallbackId,
} from './action-ids.ts';
export { canDecide, renderAppHome, type AppHomeInput } from './app-home.ts';
export { ARGS_MAX, renderApprovalCard, renderDecidedCard, renderProcessingCard, type ApprovalCardInput } from './approval-card.ts';
export {
  BlockLimits,
  countBlockTextChars,
  validateMessageBlocks,
  validateViewBlocks,
  type BlockValidationResult,
  type ButtonElement,
  type KnownBlock,
} from './block-kit-schema.ts';
export { EDIT_ARGS_MAX, REJECT_REASON_MAX, renderArgsModal, renderEditModal, renderRejectModal } from './modals.ts';
export {
  codeBlock,
  escapeAndTruncate,
  escapeMrkdwn,
  fitCodeBlock,
  fitCodeBlocks,
  inlineCode,
  inlineText,
  isSlackUserId,
  plainText,
  revealInvisible,
  slackDate,
  slackLink,
  splitForSlack,
  truncate,
  userMention,
  type FittedCodeBlock,
  type FittedCodeBlocks,
  type PlainTextObject,
} from './mrkdwn.ts';
export { MAX_RESULT_MESSAGES, renderFailure, renderResult } from './result-message.ts';
export { renderRunStatus, renderSubagentStatus, type RunStatusOptions, type SubagentStatusOptions } from './status-message.ts';
export type { HomeView, ModalView, SlackMessage } from './types.ts';
