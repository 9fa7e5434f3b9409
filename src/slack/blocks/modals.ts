/**
 * The modals behind a card's buttons: reject with a reason, edit the arguments, view all the
 * arguments. Each carries the gate action JSON (`{runId, gateId, nonce}`) as `private_metadata`:
 * it names the gate, and the submit handler reads everything else from the store.
 */
import type { Gate } from '../../store/run-schema.ts';
import { CallbackIds, ModalInputs, encodeGateAction } from './action-ids.ts';
import { BlockLimits, type KnownBlock } from './block-kit-schema.ts';
import { formatCount } from './format.ts';
import { context, hashText, prettyArgs, riskText, section } from './gate-parts.ts';
import { checkedView } from './guard.ts';
import { fitCodeBlocks, inlineCode, inlineText, plainText } from './mrkdwn.ts';
import type { ModalView } from './types.ts';

/** Longest rejection reason accepted (the reason goes back to the model as the tool result). */
export const REJECT_REASON_MAX = 2000;
/** Longest arguments JSON the edit modal can hold (Slack's input value limit). */
export const EDIT_ARGS_MAX = BlockLimits.inputValue;
/** Characters per code section of the arguments modal. */
const ARGS_SECTION_MAX = 2900;
/** Blocks of the arguments modal that are not arguments (intro, hash, truncation note). */
const ARGS_MODAL_OVERHEAD = 3;

function title(text: string) {
  return plainText(text, 24);
}

function intro(gate: Gate): KnownBlock {
  return section(`${inlineCode(gate.tool, 200)} · ${riskText(gate.risk)} · run ${inlineCode(gate.runId, 90)} · ${hashText(gate.argsHash)}`);
}

/**
 * The reject modal: one required multiline input (`ModalInputs.rejectReason`, ≤ 2000 chars).
 * Validated with `validateViewBlocks`.
 * @throws InvariantError only on a renderer bug.
 */
export function renderRejectModal(gate: Gate): ModalView {
  return checkedView('renderRejectModal', {
    type: 'modal',
    callback_id: CallbackIds.rejectModal,
    title: title('Reject request'),
    submit: title('Reject'),
    close: title('Cancel'),
    private_metadata: encodeGateAction(gate),
    blocks: [
      intro(gate),
      section('The agent gets your reason as the result of this call and can try something else.'),
      {
        type: 'input',
        block_id: ModalInputs.rejectReason.blockId,
        label: plainText('Reason', 2000),
        element: {
          type: 'plain_text_input',
          action_id: ModalInputs.rejectReason.actionId,
          multiline: true,
          min_length: 1,
          max_length: REJECT_REASON_MAX,
          placeholder: plainText('What should the agent do instead?', BlockLimits.inputPlaceholder),
        },
        hint: plainText(`Required, up to ${formatCount(REJECT_REASON_MAX)} characters.`, 2000),
      },
    ],
  });
}

/**
 * The edit modal: a multiline input (`ModalInputs.editArgs`) pre-filled with the pretty JSON of
 * the proposed arguments; submitting approves the edited arguments (re-validated and re-checked by
 * policy, recorded with a new hash). The pre-filled value is raw JSON: input values are not
 * rendered as mrkdwn, and escaping them would change the arguments. Arguments longer than
 * {@link EDIT_ARGS_MAX} get a modal without input or submit that says editing is unavailable.
 * @throws InvariantError only on a renderer bug.
 */
export function renderEditModal(gate: Gate): ModalView {
  const pretty = prettyArgs(gate.args);
  const base = {
    type: 'modal' as const,
    callback_id: CallbackIds.editModal,
    title: title('Edit arguments'),
    private_metadata: encodeGateAction(gate),
  };
  if (pretty.length > EDIT_ARGS_MAX) {
    return checkedView('renderEditModal', {
      ...base,
      close: title('Close'),
      blocks: [
        intro(gate),
        section(
          `:no_entry_sign: Editing is not available for arguments this large (${formatCount(pretty.length)} characters; the limit is ${formatCount(EDIT_ARGS_MAX)}). ` +
            `Approve or reject them as proposed, or an operator can run \`harness approve ${inlineText(gate.runId, 90)} --edit-args …\`.`,
        ),
      ],
    });
  }
  return checkedView('renderEditModal', {
    ...base,
    submit: title('Approve edited'),
    close: title('Cancel'),
    blocks: [
      intro(gate),
      {
        type: 'input',
        block_id: ModalInputs.editArgs.blockId,
        label: plainText('Arguments (JSON)', 2000),
        element: {
          type: 'plain_text_input',
          action_id: ModalInputs.editArgs.actionId,
          multiline: true,
          initial_value: pretty,
          min_length: 1,
          max_length: EDIT_ARGS_MAX,
        },
        hint: plainText(
          'Must be valid JSON for this tool. Policy checks the edited arguments again; approving records your edit and its new hash.',
          2000,
        ),
      },
    ],
  });
}

/**
 * The read-only "View all" modal: the full arguments across as many code sections as the 100-block
 * view limit allows (a note says so if even that is not enough), with the full args hash.
 * @throws InvariantError only on a renderer bug.
 */
export function renderArgsModal(gate: Gate): ModalView {
  const pretty = prettyArgs(gate.args);
  const fitted = fitCodeBlocks(pretty, ARGS_SECTION_MAX, BlockLimits.viewBlocks - ARGS_MODAL_OVERHEAD);
  const blocks: KnownBlock[] = [
    intro(gate),
    context(`Full args hash ${inlineCode(gate.argsHash, 100)} · policy ${inlineCode(gate.policyVersion, 80)} · ${formatCount(pretty.length)} characters`),
    ...fitted.blocks.map((text) => section(text)),
  ];
  if (fitted.truncated) {
    blocks.push(
      context(`:scissors: Slack cannot show more. The full arguments are in the run store: \`harness pending ${inlineText(gate.runId, 90)}\`. The hash above covers all of them.`),
    );
  }
  return checkedView('renderArgsModal', {
    type: 'modal',
    callback_id: CallbackIds.argsModal,
    title: title('Arguments'),
    close: title('Close'),
    private_metadata: encodeGateAction(gate),
    blocks,
  });
}
