// Block Kit → DOM for the local workspace UI.
//
// Every string from a message, a view or a user is inserted with textContent / text nodes; no
// innerHTML anywhere, so `<script>` or `<!channel>` in model text shows literally. Links get an
// href only for http(s) and mailto URLs. Images are never fetched (the page's CSP allows no
// foreign origins); they show as their alt text.
//
// Covered: header, section (text, fields, button accessory), context (text and image elements),
// divider, actions (buttons with styles, url and confirm dialogs), rich_text (sections, lists,
// quotes, preformatted; text styles, links, user/channel mentions, emoji), markdown, and input
// blocks with plain_text_input (modals). Anything else renders as a visible "unsupported" note.

import { decodeEntities, emojiFor, formatSlackDate, parseMrkdwn } from './mrkdwn.js';

/**
 * Creates an element. `props` keys: `class`, `text` (textContent), `dataset` (object), `attrs`
 * (plain attributes), `on` (event listeners); children are nodes or strings (text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  if (props.class !== undefined) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  for (const [key, value] of Object.entries(props.dataset ?? {})) if (value !== undefined && value !== null) el.dataset[key] = String(value);
  for (const [key, value] of Object.entries(props.attrs ?? {})) if (value !== undefined && value !== null && value !== false) el.setAttribute(key, value === true ? '' : String(value));
  for (const [event, listener] of Object.entries(props.on ?? {})) el.addEventListener(event, listener);
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return el;
}

function safeHref(url) {
  return /^(https?:\/\/|mailto:)/i.test(url) ? url : null;
}

function link(url, label) {
  const href = safeHref(url);
  if (href === null) return document.createTextNode(label);
  return h('a', { text: label, attrs: { href, target: '_blank', rel: 'noopener noreferrer nofollow' } });
}

/** The display name of a mention (`@name` / `#name`), from the directory or the app's label. */
function mention(kind, id, label, ctx) {
  const name = kind === 'user' ? (ctx.userName?.(id) ?? label ?? id) : (ctx.channelName?.(id) ?? label ?? id);
  return h('span', { class: `mention mention-${kind}`, text: `${kind === 'user' ? '@' : '#'}${name}`, dataset: { id } });
}

function renderNodes(nodes, ctx) {
  const frag = document.createDocumentFragment();
  for (const node of nodes) {
    switch (node.t) {
      case 'text':
        frag.append(document.createTextNode(node.v));
        break;
      case 'br':
        frag.append(h('br'));
        break;
      case 'b':
        frag.append(h('strong', {}, renderNodes(node.c, ctx)));
        break;
      case 'i':
        frag.append(h('em', {}, renderNodes(node.c, ctx)));
        break;
      case 's':
        frag.append(h('s', {}, renderNodes(node.c, ctx)));
        break;
      case 'quote':
        frag.append(h('blockquote', {}, renderNodes(node.c, ctx)));
        break;
      case 'code':
        frag.append(h('code', { text: node.v }));
        break;
      case 'pre':
        frag.append(h('pre', { text: node.v }));
        break;
      case 'link':
        frag.append(link(node.url, node.label));
        break;
      case 'user':
      case 'channel':
        frag.append(mention(node.t, node.id, node.label, ctx));
        break;
      case 'special': {
        const known = ['here', 'channel', 'everyone'].includes(node.name);
        frag.append(h('span', { class: 'mention mention-special', text: known ? `@${node.name}` : (node.label ?? node.name) }));
        break;
      }
      case 'date': {
        const text = formatSlackDate(node.epoch, node.format, node.fallback);
        frag.append(node.link === null ? h('time', { text, attrs: { datetime: new Date(node.epoch * 1000).toISOString() } }) : link(node.link, text));
        break;
      }
      case 'emoji':
        frag.append(h('span', { class: 'emoji', text: node.v, attrs: { title: `:${node.name}:` } }));
        break;
      default:
        break;
    }
  }
  return frag;
}

/** Renders Slack mrkdwn. */
export function renderMrkdwn(text, ctx = {}) {
  return renderNodes(parseMrkdwn(String(text)), ctx);
}

/** Renders a text object (`plain_text` shows literally, entities decoded; `mrkdwn` is parsed). */
export function renderTextObject(obj, ctx = {}) {
  if (obj === null || typeof obj !== 'object') return document.createTextNode('');
  if (obj.type === 'mrkdwn') return renderMrkdwn(obj.text ?? '', ctx);
  let text = decodeEntities(String(obj.text ?? ''));
  if (obj.emoji !== false) text = text.replace(/:([a-z0-9_+'-]+):/g, (all, name) => emojiFor(name) ?? all);
  return document.createTextNode(text);
}

function richInline(elements, ctx) {
  const frag = document.createDocumentFragment();
  for (const el of elements ?? []) {
    let node;
    switch (el.type) {
      case 'text':
        node = document.createTextNode(el.text ?? '');
        break;
      case 'link':
        node = link(el.url ?? '', el.text ?? el.url ?? '');
        break;
      case 'user':
        node = mention('user', el.user_id, null, ctx);
        break;
      case 'channel':
        node = mention('channel', el.channel_id, null, ctx);
        break;
      case 'emoji':
        node = h('span', { class: 'emoji', text: el.unicode ? String.fromCodePoint(...el.unicode.split('-').map((p) => parseInt(p, 16))) : (emojiFor(el.name) ?? `:${el.name}:`) });
        break;
      default:
        node = document.createTextNode('');
    }
    const style = el.style ?? {};
    if (style.code) node = h('code', {}, node);
    if (style.strike) node = h('s', {}, node);
    if (style.italic) node = h('em', {}, node);
    if (style.bold) node = h('strong', {}, node);
    frag.append(node);
  }
  return frag;
}

/** Renders a rich_text block (what people type; apps may send it too). */
export function renderRichText(block, ctx = {}) {
  const root = h('div', { class: 'bk-rich-text' });
  for (const el of block.elements ?? []) {
    switch (el.type) {
      case 'rich_text_section':
        root.append(h('div', { class: 'rt-section' }, richInline(el.elements, ctx)));
        break;
      case 'rich_text_preformatted':
        root.append(h('pre', {}, richInline(el.elements, ctx)));
        break;
      case 'rich_text_quote':
        root.append(h('blockquote', {}, richInline(el.elements, ctx)));
        break;
      case 'rich_text_list': {
        const list = h(el.style === 'ordered' ? 'ol' : 'ul', { class: 'rt-list' });
        for (const item of el.elements ?? []) list.append(h('li', {}, richInline(item.elements, ctx)));
        root.append(list);
        break;
      }
      default:
        root.append(h('div', { class: 'bk-unsupported', text: `Unsupported rich text element: ${String(el.type)}` }));
    }
  }
  return root;
}

function button(el, blockId, ctx) {
  const style = el.style === 'primary' || el.style === 'danger' ? ` bk-${el.style}` : '';
  const label = h('span', {}, renderTextObject(el.text, ctx));
  const btn = h('button', {
    class: `bk-button${style}`,
    attrs: { type: 'button', 'aria-label': el.accessibility_label },
    dataset: { actionId: el.action_id, blockId },
    on: {
      click: () => {
        const href = typeof el.url === 'string' ? safeHref(el.url) : null;
        if (href !== null) window.open(href, '_blank', 'noopener,noreferrer');
        ctx.onAction?.(el, blockId, btn);
      },
    },
  });
  btn.append(label);
  if (ctx.onAction === undefined) btn.disabled = true;
  return btn;
}

function inputBlock(block, ctx) {
  const el = block.element ?? {};
  const id = `in-${block.block_id}-${el.action_id}`;
  const attrs = {
    id,
    placeholder: el.placeholder?.text !== undefined ? decodeEntities(el.placeholder.text) : undefined,
    maxlength: el.max_length,
    minlength: el.min_length,
    autofocus: el.focus_on_load === true,
  };
  const field = el.multiline === true ? h('textarea', { attrs: { ...attrs, rows: 8 } }) : h('input', { attrs: { ...attrs, type: 'text' } });
  field.classList.add('bk-input');
  field.dataset.blockId = block.block_id;
  field.dataset.actionId = el.action_id;
  field.dataset.optional = block.optional === true ? 'true' : 'false';
  const kept = ctx.inputValues?.[block.block_id]?.[el.action_id];
  field.value = kept ?? decodeEntities(el.initial_value ?? '');
  const error = ctx.inputErrors?.[block.block_id];
  return h(
    'div',
    { class: `bk-input-block${error !== undefined ? ' has-error' : ''}`, dataset: { blockId: block.block_id } },
    h('label', { attrs: { for: id } }, renderTextObject(block.label, ctx), block.optional === true ? h('span', { class: 'optional', text: ' (optional)' }) : null),
    field,
    block.hint !== undefined ? h('div', { class: 'bk-hint' }, renderTextObject(block.hint, ctx)) : null,
    error !== undefined ? h('div', { class: 'bk-input-error', attrs: { role: 'alert' }, text: error }) : null,
  );
}

/** Renders one block. */
export function renderBlock(block, ctx = {}) {
  const blockId = block?.block_id;
  const wrap = (cls, ...children) => h('div', { class: `bk-block ${cls}`, dataset: { blockId, type: block.type } }, ...children);
  switch (block?.type) {
    case 'header':
      return wrap('bk-header', h('h3', {}, renderTextObject(block.text, ctx)));
    case 'section': {
      const body = h('div', { class: 'bk-section-body' });
      if (block.text !== undefined) body.append(h('div', { class: 'bk-section-text' }, renderTextObject(block.text, ctx)));
      if (Array.isArray(block.fields)) {
        body.append(h('div', { class: 'bk-fields' }, block.fields.map((f) => h('div', { class: 'bk-field' }, renderTextObject(f, ctx)))));
      }
      const accessory = block.accessory?.type === 'button' ? h('div', { class: 'bk-accessory' }, button(block.accessory, blockId, ctx)) : null;
      return wrap('bk-section', body, accessory);
    }
    case 'context':
      return wrap(
        'bk-context',
        (block.elements ?? []).map((el) =>
          el.type === 'image' ? h('span', { class: 'bk-image-alt', text: `[image: ${el.alt_text ?? ''}]` }) : h('span', { class: 'bk-context-el' }, renderTextObject(el, ctx)),
        ),
      );
    case 'divider':
      return wrap('bk-divider', h('hr'));
    case 'actions':
      return wrap('bk-actions', (block.elements ?? []).map((el) => (el.type === 'button' ? button(el, blockId, ctx) : h('span', { class: 'bk-unsupported', text: `Unsupported element: ${String(el.type)}` }))));
    case 'rich_text':
      return wrap('bk-rich', renderRichText(block, ctx));
    case 'markdown':
      return wrap('bk-markdown', renderMrkdwn(block.text ?? '', ctx));
    case 'input':
      return wrap('bk-input-wrap', inputBlock(block, ctx));
    default:
      return h('div', { class: 'bk-block bk-unsupported', text: `Unsupported block: ${String(block?.type)}` });
  }
}

/**
 * Renders a list of blocks into a container. `ctx`: `userName(id)`, `channelName(id)`,
 * `onAction(element, blockId, buttonEl)` (buttons are disabled without it), and for modals
 * `inputValues` / `inputErrors` (blockId → …).
 */
export function renderBlocks(blocks, ctx = {}) {
  const root = h('div', { class: 'bk-blocks' });
  for (const block of Array.isArray(blocks) ? blocks : []) root.append(renderBlock(block, ctx));
  return root;
}
