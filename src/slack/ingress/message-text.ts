/**
 * Turning what a person typed in Slack into a task: the bot's own mention is removed, Slack's
 * entity markup is kept (the model sees `<@U123>` as the user wrote it). A follow-up's context (the
 * thread's previous request and result) is added by `Harness.createFollowUp`, not here.
 */

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

