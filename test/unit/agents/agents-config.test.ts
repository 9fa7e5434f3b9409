/**
 * The `agents:` and `mcp:` config sections (issue C) and the role-routed fake model the tree
 * tests rely on.
 */
import { describe, expect, it } from 'vitest';
import { RoleRoutedModel } from '../../../src/agents/subagents/testing/role-routed-model.ts';
import { AgentsConfig, FileConfig, McpConfig } from '../../../src/config/schema.ts';
import { ScriptedModel } from '../../support/harness-fixture.ts';
import { treeRoles } from './tree-fixture.ts';

describe('config sections', () => {
  it('defaults: depth 2, five unfinished children, a tree token cap, full access for conversational roles', () => {
    const config = FileConfig.parse({});
    expect(config.agents).toEqual({
      maxDepth: 2,
      maxChildrenPerRun: 5,
      maxTreeTokens: 1_000_000,
      maxAwaitSeconds: 600,
      contextChars: 8000,
      monitor: { stallMs: 300_000, loopWarnAt: 3, loopStopAt: 5, window: 10 },
    });
    expect(config.mcp).toMatchObject({ fullAccessCategories: ['conversational'] });
  });

  it('refuses unknown keys and unknown role categories, naming the key', () => {
    const unknownKey = AgentsConfig.safeParse({ maxDepht: 3 });
    expect(unknownKey.success).toBe(false);
    expect(JSON.stringify(unknownKey.error?.issues)).toContain('maxDepht');
    const badCategory = McpConfig.safeParse({ fullAccessCategories: ['admin'] });
    expect(badCategory.success).toBe(false);
    expect(badCategory.error?.issues[0]?.path).toEqual(['fullAccessCategories', 0]);
    expect(AgentsConfig.safeParse({ maxDepth: 9 }).success).toBe(false);
  });
});

describe('RoleRoutedModel', () => {
  const pm = treeRoles.find((r) => r.name === 'pm')!;
  const writer = treeRoles.find((r) => r.name === 'writer')!;
  const model = new RoleRoutedModel([
    [pm, ScriptedModel.fromSteps([{ content: 'pm answer' }])],
    [writer, ScriptedModel.fromSteps([{ content: 'writer answer' }])],
  ]);
  const ask = (system: string) =>
    model.complete({ messages: [{ role: 'system', content: system }, { role: 'user', content: 'hi' }], tools: [] });

  it('answers with the model of the role whose instructions open the system prompt', async () => {
    expect((await ask(`${pm.instructions}\n\nrules`)).content).toBe('pm answer');
    expect((await ask(`${writer.instructions}\n\nrules`)).content).toBe('writer answer');
  });

  it('fails loudly when no role matches, and refuses two roles with the same instructions', async () => {
    await expect(ask('You are someone else.\n\nrules')).rejects.toThrow(/matches 0 roles/);
    expect(() => new RoleRoutedModel([[pm, ScriptedModel.fromSteps([])], [{ ...writer, instructions: pm.instructions }, ScriptedModel.fromSteps([])]])).toThrow(
      /same instructions/,
    );
  });
});
