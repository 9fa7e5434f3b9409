import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/shared/errors.ts';
import { createModel } from '../../../src/model/create-model.ts';
import { OpenAiModel } from '../../../src/model/openai-model.ts';
import { ScriptedModel } from '../../../src/model/scripted-model.ts';

describe('createModel', () => {
  it('builds the scripted model from the shipped scenarios by default', () => {
    const model = createModel({ provider: 'scripted', timeoutMs: 1000 });
    expect(model).toBeInstanceOf(ScriptedModel);
    expect(model.name).toBe('scripted');
  });

  it('builds the openai model when every setting is present', () => {
    const model = createModel({ provider: 'openai', name: 'gpt-x', baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-CANARY-create', timeoutMs: 1000 });
    expect(model).toBeInstanceOf(OpenAiModel);
    expect(model.name).toBe('openai:gpt-x');
  });

  it('refuses an incomplete openai provider instead of falling back to scripted, naming keys and not values', () => {
    const build = (): unknown => createModel({ provider: 'openai', name: 'gpt-x', timeoutMs: 1000 });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/OPENAI_API_KEY, model\.baseUrl \(or OPENAI_BASE_URL\) are not set/);
    const keyOnly = (): unknown =>
      createModel({ provider: 'openai', name: 'gpt-x', apiKey: 'sk-CANARY-secret-value', timeoutMs: 1000 });
    expect(keyOnly).toThrow(/^model\.provider is openai but model\.baseUrl \(or OPENAI_BASE_URL\) is not set$/);
  });

  it('reports a missing scenario file as a ConfigError', () => {
    expect(() => createModel({ provider: 'scripted', timeoutMs: 1000, scenariosPath: '/nonexistent/scenarios.yaml' })).toThrow(ConfigError);
  });
});
