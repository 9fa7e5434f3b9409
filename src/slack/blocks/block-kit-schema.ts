/**
 * A zod 4 schema for the Block Kit subset this project emits (and the local workspace UI renders),
 * with Slack's documented limits encoded as runtime checks. Slack publishes no JSON Schema; these
 * limits come from `@slack/types` JSDoc and docs.slack.dev (ecosystem.md §2.3).
 *
 * Two users: the local Slack-compatible server rejects oversized or malformed blocks exactly where
 * Slack would (`invalid_blocks` / `msg_blocks_too_long`), and the bot's renderers validate before
 * sending so a card is never refused in production.
 *
 * Deliberately strict: unknown properties and unknown block types are errors (Slack rejects them
 * too), so a renderer typo fails a test instead of silently rendering nothing.
 */
import { z } from 'zod';

/** Limits from ecosystem.md §2.3, named so renderers can budget against them. */
export const BlockLimits = {
  messageBlocks: 50,
  viewBlocks: 100,
  blockId: 255,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonActionId: 255,
  buttonValue: 2000,
  buttonUrl: 3000,
  buttonAccessibilityLabel: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  markdownText: 12_000,
  inputLabel: 2000,
  inputHint: 2000,
  inputPlaceholder: 150,
  inputValue: 3000,
  imageAltText: 2000,
  imageUrl: 3000,
  /** Undocumented total across a message's blocks (bolt-js#2509 measured ~13.2k). */
  messageTotalText: 13_000,
} as const;

const plainText = (max: number) =>
  z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const mrkdwnText = (max: number) =>
  z.strictObject({ type: z.literal('mrkdwn'), text: z.string().min(1).max(max), verbatim: z.boolean().optional() });
const anyText = (max: number) => z.discriminatedUnion('type', [plainText(max), mrkdwnText(max)]);

const blockId = z.string().min(1).max(BlockLimits.blockId).optional();
const actionId = z.string().min(1).max(BlockLimits.buttonActionId);

const confirmDialog = z.strictObject({
  title: plainText(BlockLimits.confirmTitle),
  text: anyText(BlockLimits.confirmText),
  confirm: plainText(BlockLimits.confirmButton),
  deny: plainText(BlockLimits.confirmButton),
  style: z.enum(['primary', 'danger']).optional(),
});

/** A Block Kit button element. */
export const buttonSchema = z.strictObject({
  type: z.literal('button'),
  text: plainText(BlockLimits.buttonText),
  action_id: actionId,
  value: z.string().max(BlockLimits.buttonValue).optional(),
  url: z.string().min(1).max(BlockLimits.buttonUrl).optional(),
  style: z.enum(['primary', 'danger']).optional(),
  confirm: confirmDialog.optional(),
  accessibility_label: z.string().min(1).max(BlockLimits.buttonAccessibilityLabel).optional(),
});

const imageElement = z.strictObject({
  type: z.literal('image'),
  image_url: z.string().min(1).max(BlockLimits.imageUrl),
  alt_text: z.string().min(1).max(BlockLimits.imageAltText),
});

const headerBlock = z.strictObject({
  type: z.literal('header'),
  block_id: blockId,
  text: plainText(BlockLimits.headerText),
});

const sectionBlock = z
  .strictObject({
    type: z.literal('section'),
    block_id: blockId,
    text: anyText(BlockLimits.sectionText).optional(),
    fields: z.array(anyText(BlockLimits.sectionFieldText)).min(1).max(BlockLimits.sectionFields).optional(),
    accessory: buttonSchema.optional(),
    expand: z.boolean().optional(),
  })
  .refine((block) => block.text !== undefined || block.fields !== undefined, {
    message: 'section requires text or fields',
  });

const contextBlock = z.strictObject({
  type: z.literal('context'),
  block_id: blockId,
  elements: z
    .array(z.discriminatedUnion('type', [plainText(BlockLimits.sectionText), mrkdwnText(BlockLimits.sectionText), imageElement]))
    .min(1)
    .max(BlockLimits.contextElements),
});

const dividerBlock = z.strictObject({ type: z.literal('divider'), block_id: blockId });

const actionsBlock = z.strictObject({
  type: z.literal('actions'),
  block_id: blockId,
  elements: z.array(buttonSchema).min(1).max(BlockLimits.actionsElements),
});

const richTextStyle = z.strictObject({
  bold: z.boolean().optional(),
  italic: z.boolean().optional(),
  strike: z.boolean().optional(),
  code: z.boolean().optional(),
});
const richTextInline = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string().min(1), style: richTextStyle.optional() }),
  z.strictObject({ type: z.literal('link'), url: z.string().min(1), text: z.string().optional(), style: richTextStyle.optional() }),
  z.strictObject({ type: z.literal('user'), user_id: z.string().min(1), style: richTextStyle.optional() }),
  z.strictObject({ type: z.literal('channel'), channel_id: z.string().min(1), style: richTextStyle.optional() }),
  z.strictObject({ type: z.literal('emoji'), name: z.string().min(1), unicode: z.string().optional() }),
]);
const richTextSection = z.strictObject({ type: z.literal('rich_text_section'), elements: z.array(richTextInline) });
const richTextElement = z.discriminatedUnion('type', [
  richTextSection,
  z.strictObject({ type: z.literal('rich_text_preformatted'), elements: z.array(richTextInline), border: z.number().optional() }),
  z.strictObject({ type: z.literal('rich_text_quote'), elements: z.array(richTextInline), border: z.number().optional() }),
  z.strictObject({
    type: z.literal('rich_text_list'),
    style: z.enum(['bullet', 'ordered']),
    elements: z.array(richTextSection),
    indent: z.number().int().min(0).optional(),
    offset: z.number().int().min(0).optional(),
    border: z.number().optional(),
  }),
]);
const richTextBlock = z.strictObject({
  type: z.literal('rich_text'),
  block_id: blockId,
  elements: z.array(richTextElement).min(1),
});

const markdownBlock = z.strictObject({
  type: z.literal('markdown'),
  block_id: blockId,
  text: z.string().min(1).max(BlockLimits.markdownText),
});

const plainTextInput = z
  .strictObject({
    type: z.literal('plain_text_input'),
    action_id: actionId,
    placeholder: plainText(BlockLimits.inputPlaceholder).optional(),
    initial_value: z.string().max(BlockLimits.inputValue).optional(),
    multiline: z.boolean().optional(),
    min_length: z.number().int().min(0).max(BlockLimits.inputValue).optional(),
    max_length: z.number().int().min(1).max(BlockLimits.inputValue).optional(),
    focus_on_load: z.boolean().optional(),
  })
  .refine((el) => el.min_length === undefined || el.max_length === undefined || el.min_length <= el.max_length, {
    message: 'min_length must not exceed max_length',
  });

const inputBlock = z.strictObject({
  type: z.literal('input'),
  block_id: blockId,
  label: plainText(BlockLimits.inputLabel),
  element: plainTextInput,
  hint: plainText(BlockLimits.inputHint).optional(),
  optional: z.boolean().optional(),
  dispatch_action: z.boolean().optional(),
});

/** One block that may appear in a message. Input blocks are reserved for views here. */
export const messageBlockSchema = z.discriminatedUnion('type', [
  headerBlock,
  sectionBlock,
  contextBlock,
  dividerBlock,
  actionsBlock,
  richTextBlock,
  markdownBlock,
]);

/** One block that may appear in a modal or App Home view. */
export const viewBlockSchema = z.discriminatedUnion('type', [
  headerBlock,
  sectionBlock,
  contextBlock,
  dividerBlock,
  actionsBlock,
  richTextBlock,
  markdownBlock,
  inputBlock,
]);

/** A block accepted by this project's schema (message or view). */
export type KnownBlock = z.infer<typeof viewBlockSchema>;
/** A Block Kit button as accepted by {@link buttonSchema}. */
export type ButtonElement = z.infer<typeof buttonSchema>;

/** The result of a validation: Slack's error code plus Slack-style `... [json-pointer:/blocks/…]` messages. */
export type BlockValidationResult =
  | { ok: true }
  | { ok: false; error: 'invalid_blocks' | 'msg_blocks_too_long'; errors: string[] };

function pointer(path: readonly PropertyKey[]): string {
  return `/blocks${path.map((part) => `/${String(part)}`).join('')}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'too_big':
      if (issue.origin === 'string') return `must be less than ${Number(issue.maximum) + 1} characters`;
      if (issue.origin === 'array') return `must be less than ${Number(issue.maximum) + 1} items`;
      return `must be at most ${String(issue.maximum)}`;
    case 'too_small':
      if (issue.origin === 'string') return `must be more than ${Number(issue.minimum) - 1} characters`;
      if (issue.origin === 'array') return `must provide at least ${String(issue.minimum)} items`;
      return `must be at least ${String(issue.minimum)}`;
    case 'unrecognized_keys':
      return `unsupported properties: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return issue.discriminator !== undefined ? 'unsupported type' : 'failed to match all allowed schemas';
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function issuesToErrors(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${describeIssue(issue)} [json-pointer:${pointer(issue.path)}]`);
}

/** Duplicate block_ids and, within one block, duplicate action_ids are errors in Slack. */
function uniquenessErrors(blocks: readonly KnownBlock[]): string[] {
  const errors: string[] = [];
  const seenBlockIds = new Set<string>();
  blocks.forEach((block, index) => {
    if (block.block_id !== undefined) {
      if (seenBlockIds.has(block.block_id)) errors.push(`duplicate block_id [json-pointer:/blocks/${index}/block_id]`);
      seenBlockIds.add(block.block_id);
    }
    if (block.type === 'actions') {
      const seenActionIds = new Set<string>();
      block.elements.forEach((element, elementIndex) => {
        if (seenActionIds.has(element.action_id)) {
          errors.push(`duplicate action_id [json-pointer:/blocks/${index}/elements/${elementIndex}/action_id]`);
        }
        seenActionIds.add(element.action_id);
      });
    }
  });
  return errors;
}

/**
 * Counts the visible text of a block list: the sum of every string held under a `text` key (text
 * objects, markdown blocks, rich text runs). This is the budget {@link BlockLimits.messageTotalText}
 * applies to; Slack's own count is undocumented, so this is a deliberately conservative proxy.
 */
export function countBlockTextChars(blocks: unknown): number {
  let total = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'text' && typeof value === 'string') total += value.length;
      else visit(value);
    }
  };
  visit(blocks);
  return total;
}

function validate(blocks: unknown, maxBlocks: number, item: z.ZodType, checkTotal: boolean): BlockValidationResult {
  if (!Array.isArray(blocks)) return { ok: false, error: 'invalid_blocks', errors: ['must be an array [json-pointer:/blocks]'] };
  if (blocks.length > maxBlocks) {
    return { ok: false, error: 'invalid_blocks', errors: [`must be less than ${maxBlocks + 1} items [json-pointer:/blocks]`] };
  }
  const parsed = z.array(item).safeParse(blocks);
  if (!parsed.success) return { ok: false, error: 'invalid_blocks', errors: issuesToErrors(parsed.error.issues) };
  const duplicates = uniquenessErrors(parsed.data as KnownBlock[]);
  if (duplicates.length > 0) return { ok: false, error: 'invalid_blocks', errors: duplicates };
  if (checkTotal) {
    const total = countBlockTextChars(blocks);
    if (total > BlockLimits.messageTotalText) {
      return {
        ok: false,
        error: 'msg_blocks_too_long',
        errors: [`total text of ${total} characters exceeds ${BlockLimits.messageTotalText} [json-pointer:/blocks]`],
      };
    }
  }
  return { ok: true };
}

/**
 * Validates a message's `blocks` (≤ 50 blocks, no input blocks, total visible text ≤ 13,000).
 * Never throws; returns Slack's error code and Slack-style messages with json-pointer paths.
 */
export function validateMessageBlocks(blocks: unknown): BlockValidationResult {
  return validate(blocks, BlockLimits.messageBlocks, messageBlockSchema, true);
}

/**
 * Validates the `blocks` of a modal or App Home view (≤ 100 blocks, input blocks allowed; the
 * message-only total-length limit does not apply). Never throws.
 */
export function validateViewBlocks(blocks: unknown): BlockValidationResult {
  return validate(blocks, BlockLimits.viewBlocks, viewBlockSchema, false);
}
