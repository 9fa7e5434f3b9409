/**
 * Issue E, the page's surfaces in a real browser:
 *
 * - the Block Kit renderer on a message posted through the Web API with every supported block
 *   (header, section text/fields/accessory, context, divider, actions with styles and a confirm
 *   dialog, rich text, mrkdwn formatting and mentions), and hostile text that must stay text;
 * - live updates: a `chat.update` edit, a reaction and an ephemeral appear without a reload;
 * - blocks breaking Slack's limits: the app gets `invalid_blocks` and the page shows the error;
 * - the App Home tab: an approver sees the pending approval there and approves from it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BOT_TOKEN } from '../../src/bot/local-bot.ts';
import { People, REPORT_TASK, eventually, readRun, runIds, startBrowserRig, type BrowserRig } from './support/browser-rig.ts';

describe('e2e (browser): Block Kit rendering, live updates, invalid blocks, App Home', () => {
  let rig: BrowserRig;

  beforeAll(async () => {
    rig = await startBrowserRig();
  });

  afterEach(() => {
    rig.assertNoPageErrors();
  });

  afterAll(async () => {
    await rig?.close();
  });

  /** Calls the Web API with the bot's token, as the app does. */
  async function botCall(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await fetch(`${rig.local.server.apiUrl}${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${LOCAL_BOT_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(args),
    });
    return (await res.json()) as Record<string, unknown>;
  }

  it('renders every supported block, keeps hostile text literal, and shows edits, reactions and ephemerals live', async () => {
    const wp = await rig.open('block kit gallery', People.requester, { c: 'C_OPS' });
    const { page } = wp;
    const posted = await botCall('chat.postMessage', {
      channel: 'C_OPS',
      text: 'Block Kit gallery',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Gallery & <friends>' } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: '*bold* _italic_ ~gone~ `code` <https://example.com/docs|the docs> <@U_APPROVER1> <#C_GENERAL> &lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt;' },
          accessory: { type: 'button', action_id: 'gallery_open', text: { type: 'plain_text', text: 'Open' }, value: 'x' },
        },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*Tool*\n`workspace_write`' }, { type: 'plain_text', text: 'plain <b>not bold</b>' }] },
        { type: 'divider' },
        { type: 'context', elements: [{ type: 'mrkdwn', text: ':white_check_mark: context line' }] },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'gallery_go', style: 'primary', text: { type: 'plain_text', text: 'Go' } },
            {
              type: 'button',
              action_id: 'gallery_stop',
              style: 'danger',
              text: { type: 'plain_text', text: 'Stop' },
              confirm: {
                title: { type: 'plain_text', text: 'Really stop?' },
                text: { type: 'mrkdwn', text: 'This *cannot* be undone.' },
                confirm: { type: 'plain_text', text: 'Stop it' },
                deny: { type: 'plain_text', text: 'Keep going' },
              },
            },
          ],
        },
        {
          type: 'rich_text',
          elements: [
            { type: 'rich_text_section', elements: [{ type: 'text', text: 'rich ', style: { bold: true } }, { type: 'link', url: 'javascript:alert(1)', text: 'bad link' }] },
            { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'item one' }] }] },
          ],
        },
        { type: 'markdown', text: 'markdown **block**' },
      ],
    });
    expect(posted['ok']).toBe(true);
    const ts = posted['ts'] as string;
    const message = page.locator(`[data-testid="message"][data-ts="${ts}"]`);
    await expect.poll(() => message.count()).toBe(1);

    expect(await message.locator('.bk-header h3').textContent()).toBe('Gallery & <friends>');
    const section = message.locator('.bk-section-text').first();
    expect(await section.locator('strong').first().textContent()).toBe('bold');
    expect(await section.locator('em').first().textContent()).toBe('italic');
    expect(await section.locator('s').first().textContent()).toBe('gone');
    expect(await section.locator('code').first().textContent()).toBe('code');
    expect(await section.locator('a').getAttribute('href')).toBe('https://example.com/docs');
    expect(await section.locator('.mention-user').textContent()).toBe('@avery');
    expect(await section.locator('.mention-channel').textContent()).toBe('#general');
    const sectionText = (await section.textContent()) ?? '';
    expect(sectionText).toContain('<!channel>');
    expect(sectionText).toContain('<script>alert(1)</script>');
    expect(await message.locator('.bk-fields .bk-field').nth(1).textContent()).toBe('plain <b>not bold</b>');
    expect(await message.locator('.bk-accessory button').textContent()).toBe('Open');
    expect(await message.locator('.bk-divider hr').count()).toBe(1);
    expect(await message.locator('.bk-context').textContent()).toContain('context line');
    expect(await message.getByRole('button', { name: 'Go' }).getAttribute('class')).toContain('bk-primary');
    expect(await message.getByRole('button', { name: 'Stop' }).getAttribute('class')).toContain('bk-danger');
    expect(await message.locator('.bk-rich-text strong').textContent()).toBe('rich ');
    expect(await message.locator('.bk-rich-text a').count()).toBe(0);
    expect(await message.locator('.bk-rich-text li').textContent()).toBe('item one');
    expect(await message.locator('.bk-markdown').textContent()).toContain('markdown');
    // Nothing from the message became markup: the page still has only its own script.
    expect(await page.locator('script').count()).toBe(1);
    expect(await message.locator('b').count()).toBe(0);

    // A confirm dialog guards the danger button; denying sends nothing.
    const deliveries = rig.local.server.deliveries().length;
    await message.getByRole('button', { name: 'Stop' }).click();
    const dialog = page.getByTestId('confirm-dialog');
    expect(await dialog.locator('h2').textContent()).toBe('Really stop?');
    expect(await dialog.locator('strong').textContent()).toBe('cannot');
    await wp.shot('confirm-dialog');
    await page.getByTestId('confirm-deny').click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(rig.local.server.deliveries().length).toBe(deliveries);
    await wp.shot('gallery', { docs: 'block-kit.png' });

    // Live: an edit, a reaction, an ephemeral.
    expect((await botCall('chat.update', { channel: 'C_OPS', ts, text: 'edited', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Now *edited*' } }] }))['ok']).toBe(true);
    await expect.poll(() => message.locator('.edited').count()).toBe(1);
    expect(await message.locator('.bk-section-text').textContent()).toBe('Now edited');
    expect((await botCall('reactions.add', { channel: 'C_OPS', timestamp: ts, name: 'eyes' }))['ok']).toBe(true);
    await expect.poll(() => message.locator('[data-testid="reaction"][data-name="eyes"]').count()).toBe(1);
    expect((await botCall('chat.postEphemeral', { channel: 'C_OPS', user: People.requester, text: 'only *you* see this' }))['ok']).toBe(true);
    const ephemeral = page.getByTestId('message-list').getByTestId('ephemeral');
    await expect.poll(() => ephemeral.count()).toBe(1);
    expect(await ephemeral.innerText()).toContain('only you see this');
    await wp.shot('live-updates');
  });

  it('blocks beyond Slack limits: the app gets invalid_blocks and the page shows the error', async () => {
    const wp = await rig.open('invalid blocks', People.requester, { c: 'C_OPS' });
    const answer = await botCall('chat.postMessage', {
      channel: 'C_OPS',
      text: 'too long',
      blocks: [{ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } }],
    });
    expect(answer).toMatchObject({ ok: false, error: 'invalid_blocks' });
    const error = wp.page.getByTestId('message-list').getByTestId('app-error');
    await expect.poll(() => error.count()).toBe(1);
    expect(await error.innerText()).toContain('chat.postMessage was refused: invalid_blocks');
    expect(await error.innerText()).toContain('json-pointer:/blocks/0/text/text');
    expect(await wp.page.getByTestId('message-list').getByText('too long').count()).toBe(0);
    await wp.shot('invalid-blocks');
  });

  it('App Home: an approver sees the pending approval and approves from it', async () => {
    const before = new Set(await runIds(rig.world.dataDir));
    await rig.local.server.postUserMessage(People.requester, 'C_GENERAL', `<@U_BOT> ${REPORT_TASK}`);
    const runId = await rig.newRunId(before);
    await eventually(async () => ((await readRun(rig.world.dataDir, runId)).run.gates[0]?.card === null ? undefined : true), 'the card record');

    const wp = await rig.open('app home', People.approver1);
    await wp.page.getByTestId('app-home-link').click();
    const home = wp.page.getByTestId('app-home');
    await expect.poll(() => home.getByText(runId, { exact: false }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await wp.shot('app-home', { docs: 'app-home.png' });
    await home.getByRole('button', { name: 'Approve', exact: true }).first().click();
    await wp.page.getByTestId('confirm-ok').click();
    await eventually(async () => ((await readRun(rig.world.dataDir, runId)).run.status === 'completed' ? true : undefined), 'the run to complete', 20_000);
    expect((await readRun(rig.world.dataDir, runId)).run.gates[0]).toMatchObject({ status: 'approved', decidedBy: People.approver1 });
    await expect.poll(() => home.getByRole('button', { name: 'Approve', exact: true }).count(), { timeout: 15_000 }).toBe(0);
    await wp.shot('app-home-after');
  });
});
