/**
 * Chooses the model from configuration. An `openai` provider with missing settings is a
 * {@link ConfigError} at startup — never a silent fall back to the scripted model, which would make
 * an operator believe a real model answered.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../shared/errors.ts';
import { OpenAiModel } from './openai-model.ts';
import type { ModelPort } from './port.ts';
import { ScriptedModel } from './scripted-model.ts';

/** The shipped default scenarios (`scenarios/default.yaml` at the package root). */
export const DEFAULT_SCENARIOS_PATH = fileURLToPath(new URL('../../scenarios/default.yaml', import.meta.url));

/** Model settings, as resolved by `src/config`. */
export interface CreateModelOptions {
  provider: 'scripted' | 'openai';
  /** Model id for `openai` (config `model.name`). */
  name?: string;
  /** Config `model.baseUrl` / env `OPENAI_BASE_URL`. */
  baseUrl?: string;
  /** Env `OPENAI_API_KEY`. */
  apiKey?: string;
  timeoutMs: number;
  /** Scenario file for `scripted`; defaults to {@link DEFAULT_SCENARIOS_PATH}. */
  scenariosPath?: string;
}

/**
 * Builds the configured {@link ModelPort}.
 * @throws ConfigError naming the missing keys (`OPENAI_API_KEY`, `model.baseUrl`, `model.name`) for an
 *   incomplete `openai` provider, or describing an unreadable/invalid scenario file.
 */
export function createModel(options: CreateModelOptions): ModelPort {
  if (options.provider === 'scripted') {
    return ScriptedModel.fromScenarios(options.scenariosPath ?? DEFAULT_SCENARIOS_PATH);
  }
  const missing: string[] = [];
  if (!options.apiKey) missing.push('OPENAI_API_KEY');
  if (!options.baseUrl) missing.push('model.baseUrl (or OPENAI_BASE_URL)');
  if (!options.name) missing.push('model.name (or HARNESS_MODEL)');
  if (!options.apiKey || !options.baseUrl || !options.name) {
    throw new ConfigError(`model.provider is openai but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set`, {
      details: { missing },
    });
  }
  return new OpenAiModel({ apiKey: options.apiKey, baseUrl: options.baseUrl, model: options.name, timeoutMs: options.timeoutMs });
}
