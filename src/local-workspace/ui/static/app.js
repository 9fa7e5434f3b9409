// The local workspace's page: a small Slack-like client over the workspace's UI API.
//
// State comes from `api/snapshot?user=` and then live from `api/events` (Server-Sent Events);
// what the person does goes to `api/messages|click|views/*|home|dm`, which the server turns into
// the same Events API and interactivity payloads Slack sends the app. Nothing here decides
// anything: the page shows what the workspace holds.
//
// Safety: all text goes into the DOM as text nodes (blocks.js); no innerHTML.

import { h, renderBlocks, renderMrkdwn, renderTextObject } from './blocks.js';

const params = new URLSearchParams(location.search);
const ui = {
  user: params.get('as') ?? 'U_REQUESTER',
  channel: params.get('c') ?? 'C_GENERAL',
  thread: params.get('t'),
  seq: 0,
  team: null,
  bot: null,
  users: new Map(),
  channels: new Map(),
  messages: new Map(),
  ephemerals: [],
  dismissed: new Set(),
  views: new Map(),
  statuses: new Map(),
  appErrors: [],
  source: null,
  renderQueued: false,
  renderedModal: '',
  stickMain: true,
  stickThread: true,
};

// ---- helpers -----------------------------------------------------------------------------------

const byId = (id) => document.getElementById(id);

function toast(text, kind = 'error') {
  const el = h('div', { class: `toast toast-${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' }, dataset: { testid: 'toast' }, text });
  el.setAttribute('data-testid', 'toast');
  byId('toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}

async function api(path, body) {
  let res;
  try {
    res = await fetch(`api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    toast('The local workspace is not reachable.');
    return null;
  }
  const json = await res.json().catch(() => ({ ok: false, error: 'bad_response' }));
  if (json.ok !== true) {
    toast(json.error === 'app_unreachable' ? 'harness is not connected right now; try again in a moment.' : `Failed: ${json.message ?? json.error}`);
    return null;
  }
  return json;
}

function userName(id) {
  const user = ui.users.get(id);
  return user === undefined ? null : user.name;
}

function channelName(id) {
  const channel = ui.channels.get(id);
  return channel === undefined ? null : channel.name;
}

/** Resolves a channel reference as an app may send it (id, #name, name, user id). */
function channelIdOf(ref) {
  if (ref === undefined || ref === null) return null;
  if (ui.channels.has(ref)) return ref;
  const name = ref.startsWith('#') ? ref.slice(1) : ref;
  for (const channel of ui.channels.values()) if (channel.kind === 'channel' && channel.name === name) return channel.id;
  for (const channel of ui.channels.values()) if (channel.kind === 'im' && channel.imUser === ref) return channel.id;
  return ref;
}

function timeOf(ts) {
  const d = new Date(Number(ts) * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function setUrl() {
  const next = new URLSearchParams({ as: ui.user, c: ui.channel });
  if (ui.thread !== null) next.set('t', ui.thread);
  history.replaceState(null, '', `?${next.toString()}`);
}

function channelMessages(channel) {
  let list = ui.messages.get(channel);
  if (list === undefined) {
    list = new Map();
    ui.messages.set(channel, list);
  }
  return list;
}

function sortedByTs(items) {
  return [...items].sort((a, b) => Number(a.ts) - Number(b.ts));
}

// ---- loading and live changes -------------------------------------------------------------------

function reset(snapshot) {
  ui.seq = snapshot.seq;
  ui.team = snapshot.team;
  ui.bot = snapshot.bot;
  ui.users = new Map(snapshot.users.map((u) => [u.id, u]));
  ui.channels = new Map(snapshot.channels.map((c) => [c.id, c]));
  ui.messages = new Map();
  for (const m of snapshot.messages) channelMessages(m.channel).set(m.ts, m);
  ui.ephemerals = snapshot.ephemerals;
  ui.views = new Map(snapshot.views.map((v) => [v.id, v]));
  ui.statuses = new Map(snapshot.statuses.map((s) => [`${s.channel}:${s.threadTs}`, s]));
  ui.appErrors = snapshot.appErrors;
}

async function load() {
  ui.source?.close();
  ui.source = null;
  const status = byId('connection');
  status.textContent = 'connecting…';
  delete status.dataset.state;
  delete document.body.dataset.user;
  const res = await fetch(`api/snapshot?user=${encodeURIComponent(ui.user)}`);
  const json = await res.json();
  if (json.ok !== true) {
    toast(`Cannot load the workspace: ${json.error}`);
    return;
  }
  reset(json.snapshot);
  fillSwitcher();
  connect();
  render();
  // Tests (and screenshots) wait for this: the page now shows what this user sees.
  document.body.dataset.user = ui.user;
}

function connect() {
  const source = new EventSource(`api/events?user=${encodeURIComponent(ui.user)}&since=${ui.seq}`);
  ui.source = source;
  const status = byId('connection');
  source.addEventListener('open', () => {
    status.textContent = 'live';
    status.dataset.state = 'live';
  });
  source.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    status.dataset.state = 'down';
  });
  source.addEventListener('reset', () => void load());
  source.addEventListener('change', (event) => {
    apply(JSON.parse(event.data));
    scheduleRender();
  });
}

function upsertEphemeral(e) {
  ui.ephemerals = ui.ephemerals.filter((x) => !(x.channel === e.channel && x.ts === e.ts));
  ui.ephemerals.push(e);
}

function apply(change) {
  ui.seq = Math.max(ui.seq, change.seq);
  switch (change.type) {
    case 'message_posted':
    case 'message_changed':
      if (!ui.channels.has(change.message.channel)) void refreshChannels();
      channelMessages(change.message.channel).set(change.message.ts, change.message);
      break;
    case 'message_deleted':
      channelMessages(change.message.channel).delete(change.message.ts);
      break;
    case 'reactions_changed': {
      const message = channelMessages(change.channel).get(change.ts);
      if (message !== undefined) message.reactions = change.reactions;
      break;
    }
    case 'ephemeral_posted':
    case 'ephemeral_changed':
      upsertEphemeral(change.ephemeral);
      break;
    case 'ephemeral_deleted':
      ui.ephemerals = ui.ephemerals.filter((x) => !(x.channel === change.ephemeral.channel && x.ts === change.ephemeral.ts));
      break;
    case 'view_opened':
    case 'view_updated':
    case 'view_closed':
    case 'home_published':
      ui.views.set(change.view.id, change.view);
      break;
    case 'thread_status':
      ui.statuses.set(`${change.status.channel}:${change.status.threadTs}`, change.status);
      break;
    case 'app_error':
      ui.appErrors.push(change.error);
      if (change.error.channel === undefined) toast(`harness: ${change.error.method} failed with ${change.error.error}`);
      break;
    default:
      break;
  }
}

async function refreshChannels() {
  const res = await fetch(`api/snapshot?user=${encodeURIComponent(ui.user)}`);
  const json = await res.json();
  if (json.ok === true) {
    for (const c of json.snapshot.channels) ui.channels.set(c.id, c);
    scheduleRender();
  }
}

// ---- actions -----------------------------------------------------------------------------------

function confirmDialog(confirm) {
  return new Promise((resolve) => {
    const root = byId('dialog-root');
    const close = (answer) => {
      root.replaceChildren();
      document.removeEventListener('keydown', onKey);
      resolve(answer);
    };
    const onKey = (event) => {
      if (event.key === 'Escape') close(false);
    };
    document.addEventListener('keydown', onKey);
    const style = confirm.style === 'danger' ? ' bk-danger' : ' bk-primary';
    root.replaceChildren(
      h(
        'div',
        { class: 'overlay' },
        h(
          'div',
          { class: 'dialog', attrs: { role: 'alertdialog', 'aria-modal': 'true', 'data-testid': 'confirm-dialog' } },
          h('h2', {}, renderTextObject(confirm.title)),
          h('div', { class: 'dialog-text' }, renderTextObject(confirm.text, { userName, channelName })),
          h(
            'div',
            { class: 'dialog-actions' },
            h('button', { class: 'bk-button', attrs: { type: 'button', 'data-testid': 'confirm-deny' }, on: { click: () => close(false) } }, renderTextObject(confirm.deny)),
            h('button', { class: `bk-button${style}`, attrs: { type: 'button', 'data-testid': 'confirm-ok' }, on: { click: () => close(true) } }, renderTextObject(confirm.confirm)),
          ),
        ),
      ),
    );
    root.querySelector('[data-testid="confirm-ok"]').focus();
  });
}

async function pressButton(where, element, blockId, buttonEl) {
  if (element.confirm !== undefined && !(await confirmDialog(element.confirm))) return;
  buttonEl.disabled = true;
  const body = { user: ui.user, actionId: element.action_id, ...(blockId !== undefined ? { blockId } : {}), ...where };
  await api('click', body);
  buttonEl.disabled = false;
}

function blockCtx(where) {
  return { userName, channelName, onAction: (element, blockId, buttonEl) => void pressButton(where, element, blockId, buttonEl) };
}

/** What a person typed → what a Slack client sends: entities escaped, @name and #name as mentions. */
function encodeTyped(text) {
  const names = new Map([...ui.users.values()].map((u) => [u.name.toLowerCase(), u.id]));
  const channels = new Map([...ui.channels.values()].filter((c) => c.kind === 'channel').map((c) => [c.name.toLowerCase(), c.id]));
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/(^|[\s(])@([a-z0-9._-]+)/gi, (all, lead, name) => (names.has(name.toLowerCase()) ? `${lead}<@${names.get(name.toLowerCase())}>` : all))
    .replace(/(^|[\s(])#([a-z0-9._-]+)/gi, (all, lead, name) => (channels.has(name.toLowerCase()) ? `${lead}<#${channels.get(name.toLowerCase())}|${name}>` : all));
}

// ---- composer with @mention completion -----------------------------------------------------------

function makeComposer(kind) {
  const input = h('textarea', { class: 'composer-input', attrs: { rows: 1, 'data-testid': `${kind}-composer`, 'aria-label': 'Message' } });
  const list = h('ul', { class: 'mention-list', attrs: { role: 'listbox', 'data-testid': 'mention-list' } });
  list.hidden = true;
  const send = h('button', { class: 'send', text: 'Send', attrs: { type: 'button', 'data-testid': `${kind}-send` } });
  let options = [];
  let active = 0;

  const query = () => {
    const upto = input.value.slice(0, input.selectionStart ?? input.value.length);
    const match = /(?:^|\s)@([\w.-]*)$/.exec(upto);
    return match === null ? null : match[1];
  };
  const hide = () => {
    list.hidden = true;
    options = [];
  };
  const show = () => {
    const q = query();
    if (q === null) return hide();
    const lower = q.toLowerCase();
    options = [...ui.users.values()].filter((u) => u.name.toLowerCase().startsWith(lower) || u.realName.toLowerCase().startsWith(lower)).slice(0, 8);
    if (options.length === 0) return hide();
    active = Math.min(active, options.length - 1);
    list.replaceChildren(
      ...options.map((u, i) =>
        h(
          'li',
          {
            class: i === active ? 'active' : '',
            attrs: { role: 'option', 'aria-selected': i === active ? 'true' : 'false', 'data-testid': 'mention-option' },
            on: {
              mousedown: (event) => {
                event.preventDefault();
                pick(u);
              },
            },
          },
          h('strong', { text: u.realName }),
          h('span', { class: 'muted', text: ` @${u.name}${u.isBot ? ' · app' : ` · ${u.role}`}` }),
        ),
      ),
    );
    list.hidden = false;
  };
  const pick = (user) => {
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, caret).replace(/@([\w.-]*)$/, `@${user.name} `);
    input.value = before + input.value.slice(caret);
    input.selectionStart = input.selectionEnd = before.length;
    hide();
    input.focus();
  };
  const submit = async () => {
    const text = input.value.trim();
    if (text === '') return;
    const threadTs = kind === 'thread' ? ui.thread : null;
    const channel = ui.channel;
    input.value = '';
    hide();
    const res = await api('messages', { user: ui.user, channel, text: encodeTyped(text), ...(threadTs !== null ? { threadTs } : {}) });
    if (res === null) {
      input.value = text;
      return;
    }
    if (res.delivered === false) toast('Posted, but harness is not connected right now, so it did not get this message.', 'info');
    // A new task opens its thread, where the bot answers.
    if (threadTs === null && ui.bot !== null && encodeTyped(text).includes(`<@${ui.bot.userId}>`)) openThread(res.ts);
  };
  input.addEventListener('input', () => {
    active = 0;
    show();
  });
  input.addEventListener('keydown', (event) => {
    if (!list.hidden && options.length > 0) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        active = (active + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
        show();
        return;
      }
      if (event.key === 'Enter' || event.key === 'Tab') {
        event.preventDefault();
        pick(options[active]);
        return;
      }
      if (event.key === 'Escape') {
        hide();
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  });
  input.addEventListener('blur', () => setTimeout(hide, 100));
  send.addEventListener('click', () => void submit());
  const el = h('div', { class: 'composer' }, list, input, send);
  return { el, input };
}

// ---- rendering ---------------------------------------------------------------------------------

function scheduleRender() {
  if (ui.renderQueued) return;
  ui.renderQueued = true;
  requestAnimationFrame(() => {
    ui.renderQueued = false;
    render();
  });
}

/** Replaces a container's children by key, rebuilding only the items whose signature changed. */
function syncList(container, items) {
  const existing = new Map([...container.children].map((el) => [el.dataset.key, el]));
  const wanted = [];
  for (const item of items) {
    const old = existing.get(item.key);
    wanted.push(old !== undefined && old.dataset.sig === item.sig ? old : Object.assign(item.build(), {}));
    const el = wanted[wanted.length - 1];
    el.dataset.key = item.key;
    el.dataset.sig = item.sig;
  }
  const same = wanted.length === container.children.length && wanted.every((el, i) => container.children[i] === el);
  if (!same) container.replaceChildren(...wanted);
}

function avatar(user) {
  const name = user?.realName ?? '?';
  return h('div', { class: `avatar avatar-${user?.role ?? 'unknown'}`, text: name.slice(0, 1).toUpperCase(), attrs: { 'aria-hidden': 'true' } });
}

function reactionsEl(message) {
  if (!Array.isArray(message.reactions) || message.reactions.length === 0) return null;
  return h(
    'div',
    { class: 'reactions' },
    message.reactions.map((r) =>
      h(
        'span',
        { class: 'reaction', attrs: { 'data-testid': 'reaction', 'data-name': r.name, title: r.users.map((u) => userName(u) ?? u).join(', ') } },
        h('span', { class: 'emoji' }, renderMrkdwn(`:${r.name}:`)),
        ` ${r.users.length}`,
      ),
    ),
  );
}

function messageEl(message, { inThread }) {
  const author = ui.users.get(message.user);
  const isBot = message.botId !== undefined;
  const replies = inThread ? [] : [...channelMessages(message.channel).values()].filter((m) => m.threadTs === message.ts);
  const body =
    Array.isArray(message.blocks) && message.blocks.length > 0
      ? renderBlocks(message.blocks, blockCtx({ channel: message.channel, messageTs: message.ts }))
      : h('div', { class: 'text' }, renderMrkdwn(message.text, { userName, channelName }));
  return h(
    'div',
    { class: `message${isBot ? ' from-bot' : ''}`, attrs: { 'data-testid': 'message', 'data-ts': message.ts, 'data-user': message.user } },
    avatar(author),
    h(
      'div',
      { class: 'message-content' },
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'author', text: author?.realName ?? message.user }),
        isBot ? h('span', { class: 'badge', text: 'APP' }) : null,
        h('span', { class: 'time', text: timeOf(message.ts) }),
        message.edited !== undefined ? h('span', { class: 'edited', text: '(edited)' }) : null,
      ),
      h('div', { class: 'message-body' }, body),
      reactionsEl(message),
      replies.length > 0
        ? h('button', {
            class: 'replies',
            text: `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`,
            attrs: { type: 'button', 'data-testid': 'replies' },
            on: { click: () => openThread(message.ts) },
          })
        : null,
    ),
  );
}

function ephemeralEl(e) {
  return h(
    'div',
    { class: 'message ephemeral', attrs: { 'data-testid': 'ephemeral', 'data-ts': e.ts } },
    avatar(ui.users.get(ui.bot?.userId)),
    h(
      'div',
      { class: 'message-content' },
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'author', text: ui.users.get(ui.bot?.userId)?.realName ?? 'harness' }),
        h('span', { class: 'badge', text: 'APP' }),
        h('span', { class: 'time', text: timeOf(e.ts) }),
        h('span', { class: 'only-you', text: 'Only visible to you' }),
      ),
      h(
        'div',
        { class: 'message-body' },
        Array.isArray(e.blocks) && e.blocks.length > 0
          ? renderBlocks(e.blocks, blockCtx({ channel: e.channel, messageTs: e.ts }))
          : h('div', { class: 'text' }, renderMrkdwn(e.text, { userName, channelName })),
      ),
      h('button', {
        class: 'dismiss',
        text: 'Dismiss',
        attrs: { type: 'button' },
        on: {
          click: () => {
            ui.dismissed.add(`${e.channel}:${e.ts}`);
            scheduleRender();
          },
        },
      }),
    ),
  );
}

function appErrorEl(error, index) {
  return h(
    'div',
    { class: 'app-error', attrs: { role: 'alert', 'data-testid': 'app-error', 'data-error': error.error, 'data-index': index } },
    h('strong', { text: `harness · ${error.method} was refused: ${error.error}` }),
    error.messages.length > 0 ? h('ul', {}, error.messages.slice(0, 10).map((m) => h('li', { text: m }))) : null,
    h('div', { class: 'muted', text: 'Slack answers the app with this error and shows nothing; the local workspace shows it so the problem is visible.' }),
  );
}

function introEl(channel) {
  const bot = ui.bot?.name ?? 'harness';
  const approver = [...ui.users.values()].find((u) => u.role === 'approver');
  return h(
    'div',
    { class: 'intro', attrs: { 'data-testid': 'intro' } },
    h('strong', { text: channel.kind === 'im' ? `This is your conversation with ${bot}.` : `This is the very beginning of #${channel.name}.` }),
    h(
      'div',
      {},
      'Try ',
      h('code', { text: `@${bot} write a short report on durable execution` }),
      '. The bot reacts, keeps a live status in the thread and asks for approval before it writes.',
      approver === undefined ? '' : ` Pick ${approver.realName} (an approver) under "Viewing as" to decide.`,
    ),
  );
}

function streamItems(channel, threadTs) {
  const items = [];
  const messages = [...channelMessages(channel).values()].filter((m) => (threadTs === null ? m.threadTs === undefined : m.ts === threadTs || m.threadTs === threadTs));
  for (const m of messages) {
    const replyCount = threadTs === null ? [...channelMessages(channel).values()].filter((r) => r.threadTs === m.ts).length : 0;
    items.push({ ts: m.ts, key: `m:${m.ts}`, sig: JSON.stringify([m, replyCount, ui.users.size]), build: () => messageEl(m, { inThread: threadTs !== null }) });
  }
  for (const e of ui.ephemerals) {
    if (channelIdOf(e.channel) !== channel || ui.dismissed.has(`${e.channel}:${e.ts}`)) continue;
    if ((e.threadTs ?? null) !== threadTs) continue;
    items.push({ ts: e.ts, key: `e:${e.ts}`, sig: JSON.stringify(e), build: () => ephemeralEl(e) });
  }
  const sorted = sortedByTs(items);
  const info = ui.channels.get(channel);
  if (threadTs === null && info !== undefined) sorted.unshift({ key: 'intro', sig: `${info.id}:${ui.user}`, build: () => introEl(info) });
  ui.appErrors.forEach((error, index) => {
    if (channelIdOf(error.channel) !== channel || (error.threadTs ?? null) !== threadTs) return;
    sorted.push({ key: `x:${index}`, sig: JSON.stringify(error), build: () => appErrorEl(error, index) });
  });
  return sorted;
}

function renderSidebar() {
  const channels = [...ui.channels.values()].filter((c) => c.kind === 'channel');
  syncList(
    byId('channel-list'),
    channels.map((c) => ({
      key: c.id,
      sig: JSON.stringify([c.name, ui.channel === c.id]),
      build: () =>
        h(
          'li',
          {},
          h('button', {
            class: `channel${ui.channel === c.id ? ' active' : ''}`,
            text: `# ${c.name}`,
            attrs: { type: 'button', 'data-testid': 'channel', 'data-channel': c.id },
            on: { click: () => selectChannel(c.id) },
          }),
        ),
    })),
  );
  const inApp = ui.channel === 'home' || ui.channels.get(ui.channel)?.kind === 'im';
  syncList(byId('app-list'), [
    {
      key: 'app',
      sig: String(inApp),
      build: () =>
        h(
          'li',
          {},
          h('button', {
            class: `channel${inApp ? ' active' : ''}`,
            text: ui.bot?.name ?? 'harness',
            attrs: { type: 'button', 'data-testid': 'app-home-link' },
            on: { click: () => selectChannel('home') },
          }),
        ),
    },
  ]);
}

function renderAppTabs(active) {
  const tabs = byId('app-tabs');
  tabs.hidden = false;
  const tab = (name, label, onClick) =>
    h('button', { class: `tab${active === name ? ' active' : ''}`, text: label, attrs: { type: 'button', 'data-testid': `tab-${name}` }, on: { click: onClick } });
  tabs.replaceChildren(
    tab('home', 'Home', () => selectChannel('home')),
    tab('messages', 'Messages', () => void openDm()),
  );
}

function renderMain() {
  const header = byId('main-header');
  const list = byId('message-list');
  const home = byId('home');
  const scroll = byId('main-scroll');
  if (ui.channel === 'home') {
    header.replaceChildren(h('span', {}, h('span', { class: 'title', text: ui.bot?.name ?? 'harness' }), h('span', { class: 'muted', text: ' · App Home' })));
    renderAppTabs('home');
    list.hidden = true;
    home.hidden = false;
    byId('main-composer').hidden = true;
    const view = [...ui.views.values()].find((v) => v.definition.type === 'home' && v.userId === ui.user);
    const sig = view === undefined ? 'none' : `${view.id}:${view.hash}`;
    if (home.dataset.sig !== sig) {
      home.dataset.sig = sig;
      home.replaceChildren(
        view === undefined
          ? h('div', { class: 'muted empty', text: 'The app has not published a Home tab for you yet.' })
          : renderBlocks(view.definition.blocks, blockCtx({ viewId: view.id })),
      );
    }
    return;
  }
  const channel = ui.channels.get(ui.channel);
  list.hidden = false;
  home.hidden = true;
  byId('main-composer').hidden = false;
  if (channel?.kind === 'im') {
    header.replaceChildren(h('span', {}, h('span', { class: 'title', text: ui.bot?.name ?? 'harness' }), h('span', { class: 'muted', text: ' · Messages' })));
    renderAppTabs('messages');
  } else {
    header.replaceChildren(h('span', { class: 'title', text: `# ${channel?.name ?? ui.channel}` }));
    byId('app-tabs').hidden = true;
  }
  composers.main.input.placeholder = channel?.kind === 'im' ? `Message ${ui.bot?.name ?? 'harness'}` : `Message #${channel?.name ?? ''} — type @ to mention`;
  const atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
  syncList(list, streamItems(ui.channel, null));
  if (atBottom || ui.stickMain) scroll.scrollTop = scroll.scrollHeight;
  ui.stickMain = false;
}

function renderThread() {
  const pane = byId('thread-pane');
  if (ui.thread === null || ui.channel === 'home') {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  const scroll = byId('thread-scroll');
  const atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
  syncList(byId('thread-list'), streamItems(ui.channel, ui.thread));
  const status = ui.statuses.get(`${ui.channel}:${ui.thread}`);
  const statusEl = byId('thread-status');
  if (status !== undefined && status.status !== '') {
    statusEl.hidden = false;
    statusEl.textContent = `${ui.bot?.name ?? 'harness'} ${status.status}`;
  } else statusEl.hidden = true;
  if (atBottom || ui.stickThread) scroll.scrollTop = scroll.scrollHeight;
  ui.stickThread = false;
}

function currentModal() {
  const open = [...ui.views.values()].filter((v) => v.definition.type === 'modal' && v.open && v.userId === ui.user);
  return open[open.length - 1];
}

function modalValues(root) {
  const values = {};
  for (const field of root.querySelectorAll('.bk-input')) {
    values[field.dataset.blockId] ??= {};
    values[field.dataset.blockId][field.dataset.actionId] = field.value;
  }
  return values;
}

function renderModal() {
  const root = byId('modal-root');
  const view = currentModal();
  const key = view === undefined ? '' : `${view.id}:${view.hash}:${JSON.stringify(view.errors ?? {})}`;
  if (key === ui.renderedModal) return;
  const kept = root.dataset.viewId === view?.id ? modalValues(root) : undefined;
  ui.renderedModal = key;
  if (view === undefined) {
    root.replaceChildren();
    delete root.dataset.viewId;
    return;
  }
  root.dataset.viewId = view.id;
  const def = view.definition;
  const submit = async (button) => {
    const values = modalValues(root);
    let missing = false;
    for (const field of root.querySelectorAll('.bk-input')) {
      const block = field.closest('.bk-input-block');
      const empty = field.value === '' && field.dataset.optional !== 'true';
      block.classList.toggle('has-error', empty);
      block.querySelector('.bk-input-error.local')?.remove();
      if (empty) {
        block.append(h('div', { class: 'bk-input-error local', attrs: { role: 'alert' }, text: 'Please complete this required field.' }));
        missing = true;
      }
    }
    if (missing) return;
    button.disabled = true;
    await api('views/submit', { user: ui.user, viewId: view.id, values });
    button.disabled = false;
  };
  const close = () => void api('views/close', { user: ui.user, viewId: view.id });
  const dialog = h(
    'div',
    { class: 'modal', attrs: { role: 'dialog', 'aria-modal': 'true', 'data-testid': 'modal', 'data-callback-id': def.callback_id ?? '' } },
    h('div', { class: 'modal-header' }, h('h2', {}, renderTextObject(def.title)), h('button', { class: 'icon-button', text: '×', attrs: { type: 'button', 'aria-label': 'Close' }, on: { click: close } })),
    h('div', { class: 'modal-body' }, renderBlocks(def.blocks, { ...blockCtx({ viewId: view.id }), inputValues: kept, inputErrors: view.errors })),
    h(
      'div',
      { class: 'modal-footer' },
      h('button', { class: 'bk-button', attrs: { type: 'button', 'data-testid': 'modal-close' }, on: { click: close } }, def.close !== undefined ? renderTextObject(def.close) : 'Cancel'),
      def.submit !== undefined
        ? h('button', {
            class: 'bk-button bk-primary',
            attrs: { type: 'button', 'data-testid': 'modal-submit' },
            on: { click: (event) => void submit(event.currentTarget) },
          }, renderTextObject(def.submit))
        : null,
    ),
  );
  root.replaceChildren(h('div', { class: 'overlay' }, dialog));
  const first = root.querySelector('.bk-input');
  if (first !== null && kept === undefined) first.focus();
}

function render() {
  renderSidebar();
  renderMain();
  renderThread();
  renderModal();
}

// ---- navigation --------------------------------------------------------------------------------

function selectChannel(id) {
  if (ui.channel !== id) ui.thread = null;
  ui.channel = id;
  ui.stickMain = true;
  setUrl();
  render();
  if (id === 'home') void api('home', { user: ui.user });
}

async function openDm() {
  const res = await api('dm', { user: ui.user });
  if (res === null) return;
  ui.channels.set(res.channel.id, res.channel);
  selectChannel(res.channel.id);
}

function openThread(ts) {
  ui.thread = ts;
  ui.stickThread = true;
  setUrl();
  render();
  composers.thread.input.focus();
}

function fillSwitcher() {
  const select = byId('user-switcher');
  const people = [...ui.users.values()].filter((u) => !u.isBot);
  select.replaceChildren(...people.map((u) => h('option', { text: `${u.realName} (@${u.name}) · ${u.role}`, attrs: { value: u.id, selected: u.id === ui.user } })));
  select.value = ui.user;
  byId('team-name').textContent = ui.team?.name ?? 'Local Workspace';
}

const composers = { main: makeComposer('main'), thread: makeComposer('thread') };
byId('main-composer').append(composers.main.el);
byId('thread-composer').append(composers.thread.el);
composers.thread.input.placeholder = 'Reply in thread…';
byId('thread-close').addEventListener('click', () => {
  ui.thread = null;
  setUrl();
  render();
});
byId('user-switcher').addEventListener('change', (event) => {
  ui.user = event.target.value;
  ui.renderedModal = '';
  ui.dismissed.clear();
  if (ui.channels.get(ui.channel)?.kind === 'im') ui.channel = 'home';
  setUrl();
  void load().then(() => {
    if (ui.channel === 'home') void api('home', { user: ui.user });
  });
});
document.addEventListener('keydown', (event) => {
  const view = currentModal();
  if (event.key === 'Escape' && view !== undefined && byId('dialog-root').childElementCount === 0) void api('views/close', { user: ui.user, viewId: view.id });
});

void load().then(() => {
  if (ui.channel === 'home') void api('home', { user: ui.user });
});
