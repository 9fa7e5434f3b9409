/**
 * The router's rules as a table: `as <role>`, `<role>: task`, thread role, channel role, default,
 * and the refusals (unknown or ambiguous role names are never silently defaulted), plus the startup
 * validation of `routing.channels` and the help text.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/shared/errors.ts';
import { Router, editDistance, helpText, type RouteDecision, type RouteInput } from '../../../src/routing/router.ts';

const ROLES = [
  { name: 'pm', description: 'Plans and delegates.' },
  { name: 'researcher', description: 'Finds things out.' },
  { name: 'writer', description: 'Writes reports.' },
  { name: 'reviewer', description: 'Reviews drafts.' },
];

function router(channels: Record<string, string> = { C_RESEARCH: 'researcher' }): Router {
  return new Router({ roles: ROLES, defaultRole: 'writer', channels });
}

function route(text: string, extra: Partial<RouteInput> = {}): RouteDecision {
  return router().route({ text, channel: 'C_GENERAL', ...extra });
}

describe('Router.route', () => {
  it.each<[string, Partial<RouteInput>, RouteDecision]>([
    ['researcher: find X', {}, { kind: 'route', role: 'researcher', task: 'find X', source: 'prefix' }],
    ['Researcher:find X', {}, { kind: 'route', role: 'researcher', task: 'find X', source: 'prefix' }],
    ['research: find X', {}, { kind: 'route', role: 'researcher', task: 'find X', source: 'prefix' }],
    ['as reviewer check the draft', {}, { kind: 'route', role: 'reviewer', task: 'check the draft', source: 'as' }],
    ['as PM: plan the launch', {}, { kind: 'route', role: 'pm', task: 'plan the launch', source: 'as' }],
    ['write a report', {}, { kind: 'route', role: 'writer', task: 'write a report', source: 'default' }],
    ['write a report', { channel: 'C_RESEARCH' }, { kind: 'route', role: 'researcher', task: 'write a report', source: 'channel' }],
    ['and the summary too', { channel: 'C_RESEARCH', threadRole: 'pm' }, { kind: 'route', role: 'pm', task: 'and the summary too', source: 'thread' }],
    ['reviewer: check it', { threadRole: 'pm' }, { kind: 'route', role: 'reviewer', task: 'check it', source: 'prefix' }],
  ])('routes %j', (text, extra, expected) => {
    expect(route(text, extra)).toEqual(expected);
  });

  it.each([
    'Note: the build is red, summarise the incident notes',
    'as soon as possible, summarise the notes',
    'TODO: write a report',
    'fetch https://example.com',
    're: the meeting notes',
    'as it stands the report is fine',
  ])('treats %j as text for the default role, not as a role name', (text) => {
    expect(route(text)).toEqual({ kind: 'route', role: 'writer', task: text, source: 'default' });
  });

  it('refuses a near-miss role name with a suggestion instead of defaulting', () => {
    expect(route('reseacher: find X')).toEqual({ kind: 'unknown_role', name: 'reseacher', suggestion: 'researcher', task: 'find X' });
    expect(route('as writr draft it')).toEqual({ kind: 'unknown_role', name: 'writr', suggestion: 'writer', task: 'draft it' });
  });

  it('refuses an explicit "as <name>:" for a role that does not exist', () => {
    expect(route('as poet: a sonnet')).toEqual({ kind: 'unknown_role', name: 'poet', suggestion: null, task: 'a sonnet' });
    expect(route('as poet, a sonnet', { threadRole: 'writer' })).toMatchObject({ kind: 'unknown_role', name: 'poet' });
  });

  it('refuses a prefix that fits several roles', () => {
    expect(route('rev: check')).toEqual({ kind: 'route', role: 'reviewer', task: 'check', source: 'prefix' });
    const ambiguous = new Router({ roles: [...ROLES, { name: 'revisor', description: '' }], defaultRole: 'writer' });
    expect(ambiguous.route({ text: 'rev: check', channel: 'C1' })).toEqual({ kind: 'ambiguous_role', name: 'rev', candidates: ['reviewer', 'revisor'], task: 'check' });
  });

  it('keeps an empty task empty (the ingress answers with a hint)', () => {
    expect(route('as researcher')).toEqual({ kind: 'route', role: 'researcher', task: '', source: 'as' });
  });
});

describe('Router configuration', () => {
  it('refuses a channel mapped to an unknown role, naming the key and the roles', () => {
    expect(() => router({ C_OPS: 'poet' })).toThrow(ConfigError);
    expect(() => router({ C_OPS: 'poet' })).toThrow('routing.channels.C_OPS: unknown role "poet"; known roles: pm, researcher, writer, reviewer');
  });

  it('refuses an unknown default role', () => {
    expect(() => new Router({ roles: ROLES, defaultRole: 'poet' })).toThrow('roles.default: unknown role "poet"');
  });
});

describe('helpText', () => {
  it('names the unknown role, suggests the near one and lists every role', () => {
    const text = helpText({ kind: 'unknown_role', name: 'reseacher', suggestion: 'researcher', task: 'x' }, ROLES, 'writer');
    expect(text).toContain('I don\'t know a role called "reseacher" (did you mean *researcher*?); nothing was started.');
    for (const role of ROLES) expect(text).toContain(`• *${role.name}* — ${role.description}`);
    expect(text).toContain('*writer* — Writes reports. (default)');
    expect(text).toContain('`researcher: …`');
  });

  it('lists the candidates of an ambiguous name', () => {
    const text = helpText({ kind: 'ambiguous_role', name: 'rev', candidates: ['reviewer', 'revisor'], task: 'x' }, ROLES, 'writer');
    expect(text.split('\n')[0]).toBe('"rev" could mean *reviewer* or *revisor*; nothing was started.');
  });
});

describe('editDistance', () => {
  it.each([
    ['writer', 'writer', 0],
    ['writr', 'writer', 1],
    ['reseacher', 'researcher', 1],
    ['pm', 'writer', 6],
  ])('%s → %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});
