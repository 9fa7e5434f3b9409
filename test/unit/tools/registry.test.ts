/**
 * The tool registry (P12): malformed tool calls from the model are refused with one short line
 * each, and never reach a handler; schemas offered to the model are strict JSON Schema.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvariantError } from '../../../src/shared/errors.ts';
import { defineTool } from '../../../src/tools/define-tool.ts';
import { ToolRegistry } from '../../../src/tools/registry.ts';
import type { ToolDefinition } from '../../../src/tools/types.ts';

const MAX = 1024;

function tool(name: string, schema: z.ZodType = z.strictObject({ path: z.string().min(1), count: z.int().min(1).max(5).optional() })): ToolDefinition {
  return {
    name,
    description: `the ${name} tool`,
    inputSchema: schema,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    source: 'builtin',
    handler: () => Promise.reject(new Error('handlers never run in these tests')),
  };
}

function registry(): ToolRegistry {
  const r = new ToolRegistry();
  r.register(tool('read_doc'));
  r.register(tool('list_docs', z.strictObject({ dir: z.string().optional() })));
  return r;
}

describe('ToolRegistry.validateArgs (P12)', () => {
  const cases: { name: string; tool?: string; json: string | null; error: RegExp }[] = [
    { name: 'invalid JSON', json: '{"path": "a.md"', error: /not valid JSON/ },
    { name: 'null arguments for a tool with required keys', json: null, error: /arguments for read_doc are missing/ },
    { name: 'empty-string arguments for a tool with required keys', json: '  ', error: /missing/ },
    { name: 'an array instead of an object', json: '["a.md"]', error: /must be a JSON object, not an array/ },
    { name: 'JSON null', json: 'null', error: /not null/ },
    { name: 'a JSON string', json: '"a.md"', error: /not a string/ },
    { name: 'a wrong type', json: '{"path": 42}', error: /invalid arguments for read_doc: path: expected string/ },
    { name: 'a missing key', json: '{"count": 2}', error: /path: required/ },
    { name: 'an out-of-range number', json: '{"path": "a", "count": 99}', error: /count: / },
    { name: 'an extra key', json: '{"path": "a.md", "sudo": true}', error: /unexpected key "sudo"/ },
    { name: 'a __proto__ key', json: '{"path": "a.md", "__proto__": {"admin": true}}', error: /unexpected key "__proto__"/ },
    { name: 'arguments over maxBytes', json: JSON.stringify({ path: 'x'.repeat(MAX) }), error: /bytes; the limit is 1024/ },
    { name: 'an unknown tool', tool: 'delete_all', json: '{}', error: /unknown tool "delete_all"/ },
  ];

  it.each(cases)('refuses $name with a short error', ({ tool: name, json, error }) => {
    const result = registry().validateArgs(name ?? 'read_doc', json, MAX);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatch(error);
    expect(result.error.length).toBeLessThan(300);
    expect(result.error).not.toContain('\n');
  });

  it('counts bytes, not characters', () => {
    const json = JSON.stringify({ path: 'é'.repeat(600) }); // 1200 bytes, 613 characters
    expect(registry().validateArgs('read_doc', json, MAX)).toMatchObject({ ok: false });
  });

  it('never echoes argument values and stays short with many bad keys', () => {
    const bad = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}_${'z'.repeat(100)}`, 'SECRET-VALUE']));
    const result = registry().validateArgs('read_doc', JSON.stringify({ path: 7, ...bad }), 64 * 1024);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.length).toBeLessThan(300);
    expect(result.error).not.toContain('SECRET-VALUE');
  });

  it('clips an absurd tool name in the error', () => {
    const result = registry().validateArgs('x'.repeat(5000), '{}', MAX);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown tool "x{64}"/) });
    expect(result.ok ? '' : result.error.length).toBeLessThan(300);
  });

  it('passes valid arguments through the schema', () => {
    expect(registry().validateArgs('read_doc', '{"path":"notes/a.md","count":2}', MAX)).toEqual({
      ok: true,
      args: { path: 'notes/a.md', count: 2 },
    });
  });

  it('treats missing arguments as {} when the schema accepts an empty object', () => {
    expect(registry().validateArgs('list_docs', null, MAX)).toEqual({ ok: true, args: {} });
    expect(registry().validateArgs('list_docs', '', MAX)).toEqual({ ok: true, args: {} });
  });

  it('applies schema defaults', () => {
    const r = new ToolRegistry();
    r.register(tool('with_default', z.strictObject({ n: z.int().default(3) })));
    expect(r.validateArgs('with_default', '{}', MAX)).toEqual({ ok: true, args: { n: 3 } });
  });
});

describe('ToolRegistry.register', () => {
  it.each(['', 'has space', 'dots.are.bad', 'x'.repeat(65), 'ünïcode'])('refuses the name %j', (name) => {
    expect(() => new ToolRegistry().register(tool(name))).toThrow(InvariantError);
  });

  it('refuses a duplicate name', () => {
    const r = registry();
    expect(() => r.register(tool('read_doc'))).toThrow(/already registered/);
  });

  it('refuses a schema that is not a strict object', () => {
    expect(() => new ToolRegistry().register(tool('loose', z.object({ a: z.string() })))).toThrow(/z\.strictObject/);
    expect(() => new ToolRegistry().register(tool('scalar', z.string()))).toThrow(/z\.strictObject/);
  });

  it('refuses a schema JSON Schema cannot express', () => {
    const schema = z.strictObject({ at: z.date() });
    expect(() => new ToolRegistry().register(tool('dated', schema))).toThrow(InvariantError);
  });

  it('derives JSON Schema without $schema and with additionalProperties: false', () => {
    const registered = registry().get('read_doc');
    expect(registered?.jsonSchema).toEqual({
      type: 'object',
      properties: {
        path: { type: 'string', minLength: 1 },
        count: { type: 'integer', minimum: 1, maximum: 5 },
      },
      required: ['path'],
      additionalProperties: false,
    });
    expect(registered?.jsonSchema).not.toHaveProperty('$schema');
  });

  it('accepts a typed definition through defineTool', () => {
    const r = new ToolRegistry();
    const def = defineTool({
      ...tool('typed'),
      inputSchema: z.strictObject({ q: z.string() }),
      handler: async (args) => ({ content: args.q.toUpperCase() }),
    });
    expect(r.register(def).name).toBe('typed');
  });
});

describe('ToolRegistry lookups', () => {
  it('get, has and list', () => {
    const r = registry();
    expect(r.get('read_doc')?.name).toBe('read_doc');
    expect(r.get('constructor')).toBeUndefined();
    expect(r.has('list_docs')).toBe(true);
    expect(r.list().map((t) => t.name)).toEqual(['read_doc', 'list_docs']);
  });

  it('specsFor gives every tool for "*", the named ones in order otherwise, skipping unknown names', () => {
    const r = registry();
    expect(r.specsFor('*').map((s) => s.name)).toEqual(['read_doc', 'list_docs']);
    expect(r.specsFor(['list_docs', 'nope', 'read_doc', 'list_docs']).map((s) => s.name)).toEqual(['list_docs', 'read_doc']);
    const [spec] = r.specsFor(['read_doc']);
    expect(spec).toEqual({ name: 'read_doc', description: 'the read_doc tool', parameters: r.get('read_doc')?.jsonSchema });
  });

  it('specsFor returns copies the caller may change', () => {
    const r = registry();
    const [spec] = r.specsFor(['read_doc']);
    (spec?.parameters as Record<string, unknown>)['additionalProperties'] = true;
    expect(r.specsFor(['read_doc'])[0]?.parameters['additionalProperties']).toBe(false);
  });
});
