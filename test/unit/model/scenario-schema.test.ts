import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/shared/errors.ts';
import { DEFAULT_SCENARIOS_PATH } from '../../../src/model/create-model.ts';
import { isKnownTemplate, loadScenarioFile, parseScenarioFile } from '../../../src/model/scenario-schema.ts';

describe('scenario schema', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scenarios-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the shipped default scenarios, with on_error on every scenario that calls tools', () => {
    const file = loadScenarioFile(DEFAULT_SCENARIOS_PATH);
    expect(file.fallback).toBe('help');
    const names = file.scenarios.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['pm', 'fetch', 'report', 'summarise', 'help']));
    // The pm scenario's task mentions a report: it must be matched before `report`.
    expect(names.indexOf('pm')).toBeLessThan(names.indexOf('report'));
    for (const scenario of file.scenarios.filter((s) => s.steps.some((step) => step.calls))) {
      expect(scenario.on_error, scenario.name).toMatch(/\{\{last_error\}\}/);
    }
  });

  it('knows the template names, including last.<path>', () => {
    expect(['task', 'keywords', 'slug', 'url', 'report', 'summary', 'last', 'last_error', 'last.matches.0.path'].every(isKnownTemplate)).toBe(true);
    expect(isKnownTemplate('reject_reason')).toBe(false);
    expect(isKnownTemplate('last.')).toBe(false);
  });

  it.each([
    [{ scenarios: [] }, /scenarios: Too small/],
    [{ scenarios: [{ name: 'a', match: '(', steps: [{ say: 'x' }] }] }, /scenarios\[0\]\.match: invalid regular expression/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{ say: '{{tsak}}' }] }] }, /scenarios\[0\]\.steps\[0\]\.say: unknown template \{\{tsak\}\}/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{ calls: [{ name: 't', args: { q: ['{{nope}}'] } }] }] }] }, /args: unknown template \{\{nope\}\}/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{}] }] }, /a step needs say or calls/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{ calls: [{ name: 't', args: {}, rawArguments: '{' }] }] }] }, /either args or rawArguments/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{ say: 'x' }], extra: 1 }] }, /scenarios\[0\]: Unrecognized key/],
    [{ fallback: 'nope', scenarios: [{ name: 'a', match: 'x', steps: [{ say: 'x' }] }] }, /fallback: no scenario named nope/],
    [{ scenarios: [{ name: 'a', match: 'x', steps: [{ say: 'x' }] }, { name: 'a', match: 'y', steps: [{ say: 'y' }] }] }, /duplicate scenario name a/],
  ])('rejects an invalid document %#', (document, message) => {
    expect(() => parseScenarioFile(document, 'test.yaml')).toThrow(ConfigError);
    expect(() => parseScenarioFile(document, 'test.yaml')).toThrow(message);
  });

  it('names the file when it is missing or not YAML', async () => {
    const missing = join(dir, 'missing.yaml');
    expect(() => loadScenarioFile(missing)).toThrow(/cannot read scenario file .*missing\.yaml \(model\.scenarios\): ENOENT/);
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'scenarios: [unclosed');
    expect(() => loadScenarioFile(broken)).toThrow(/broken\.yaml is not valid YAML/);
  });
});
