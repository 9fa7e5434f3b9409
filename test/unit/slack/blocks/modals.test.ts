import { describe, expect, it } from 'vitest';
import { validateView } from '../../../../src/local-workspace/view-schema.ts';
import { CallbackIds, ModalInputs, decodeGateAction } from '../../../../src/slack/blocks/action-ids.ts';
import { BlockLimits, validateViewBlocks } from '../../../../src/slack/blocks/block-kit-schema.ts';
import { EDIT_ARGS_MAX, renderArgsModal, renderEditModal, renderRejectModal } from '../../../../src/slack/blocks/modals.ts';
import type { ModalView } from '../../../../src/slack/blocks/types.ts';
import { HOSTILE, expectNoForeignMarkup, makeGate } from './builders.ts';

function expectValidModal(view: ModalView): void {
  expect(validateViewBlocks(view.blocks)).toEqual({ ok: true });
  // The local Slack-compatible server's full view check (title/submit lengths, metadata, submit rule).
  expect(validateView(view, 'modal').ok).toBe(true);
}

function inputs(view: ModalView) {
  return view.blocks.flatMap((block) => (block.type === 'input' ? [block] : []));
}

describe('renderRejectModal', () => {
  it('asks for a required reason of at most 2000 characters and names the gate in metadata', () => {
    const gate = makeGate({ tool: `t ${HOSTILE}` });
    const view = renderRejectModal(gate);
    expectValidModal(view);
    expectNoForeignMarkup(view, []);
    expect(view.callback_id).toBe(CallbackIds.rejectModal);
    expect(decodeGateAction(view.private_metadata)).toEqual({ runId: gate.runId, gateId: gate.gateId, nonce: gate.nonce });
    const [input] = inputs(view);
    expect(input?.block_id).toBe(ModalInputs.rejectReason.blockId);
    expect(input?.element).toMatchObject({ action_id: ModalInputs.rejectReason.actionId, min_length: 1, max_length: 2000, multiline: true });
    expect(input?.optional).toBeUndefined();
  });
});

describe('renderEditModal', () => {
  it('pre-fills the exact pretty JSON (unescaped: it is an input value, not markup)', () => {
    const args = { path: 'notes/a.md', content: HOSTILE };
    const gate = makeGate({ args });
    const view = renderEditModal(gate);
    expectValidModal(view);
    expectNoForeignMarkup(view, []);
    const [input] = inputs(view);
    expect(input?.block_id).toBe(ModalInputs.editArgs.blockId);
    expect(input?.element.initial_value).toBe(JSON.stringify(args, null, 2));
    expect(JSON.parse(input?.element.initial_value ?? '')).toEqual(args);
    expect(input?.element.max_length).toBe(EDIT_ARGS_MAX);
    expect(view.submit?.text).toBe('Approve edited');
    expect(view.callback_id).toBe(CallbackIds.editModal);
  });

  it('says editing is not available for arguments over 3000 characters', () => {
    const view = renderEditModal(makeGate({ args: { content: 'x'.repeat(5000) } }));
    expectValidModal(view);
    expect(inputs(view)).toEqual([]);
    expect(view.submit).toBeUndefined();
    expect(JSON.stringify(view.blocks)).toContain('Editing is not available for arguments this large');
  });
});

describe('renderArgsModal', () => {
  it('shows all of a 10,000-character argument with the full hash', () => {
    const content = Array.from({ length: 200 }, (_, i) => `line ${i} ${'<&>'.repeat(15)}`).join('\n');
    const gate = makeGate({ args: { content } });
    const view = renderArgsModal(gate);
    expectValidModal(view);
    expectNoForeignMarkup(view, []);
    expect(JSON.stringify(view.blocks)).toContain(gate.argsHash);
    expect(view.submit).toBeUndefined();
    expect(JSON.stringify(view.blocks)).not.toContain('Slack cannot show more');
  });

  it('fits a 1 MB argument into the 100-block limit and says the rest is in the store', () => {
    const gate = makeGate({ args: { content: '<&>'.repeat(350_000) } });
    const view = renderArgsModal(gate);
    expectValidModal(view);
    expect(view.blocks.length).toBeLessThanOrEqual(BlockLimits.viewBlocks);
    expect(JSON.stringify(view.blocks.at(-1))).toContain('Slack cannot show more');
    for (const block of view.blocks) {
      if (block.type === 'section' && block.text !== undefined) expect(block.text.text.length).toBeLessThanOrEqual(3000);
    }
  });
});
