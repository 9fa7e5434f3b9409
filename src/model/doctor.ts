/**
 * `harness doctor` for the model (DESIGN.md §7): says which model a run would use and whether it
 * answers. It never throws and never prints a secret: missing settings are named by their
 * env/config key, and the API key is redacted from every message.
 */
import { asBotError } from '../shared/errors.ts';
import { createRedactor } from '../shared/redact.ts';
import { OpenAiModel } from './openai-model.ts';
import { loadScenarioFile } from './scenario-schema.ts';

/** The outcome of a doctor check. */
export type DoctorStatus = 'scripted' | 'misconfigured' | 'unreachable' | 'model_missing' | 'ok';

/** What `runDoctor` checks. */
export interface DoctorInput {
  provider: 'scripted' | 'openai';
  /** The model id (config `model.name`, env `HARNESS_MODEL`). */
  name?: string;
  /** Config `model.baseUrl`, env `OPENAI_BASE_URL`. */
  baseUrl?: string;
  /** Env `OPENAI_API_KEY`. */
  apiKey?: string;
  timeoutMs?: number;
  /** For the scripted provider: the scenario file to validate. */
  scenariosPath?: string;
}

/** A secret-free report. */
export interface DoctorReport {
  status: DoctorStatus;
  provider: 'scripted' | 'openai';
  /** `scripted` or `openai:<name>`. */
  model: string;
  /** The base URL with any user info removed. */
  baseUrl?: string;
  /** One human sentence explaining the status. */
  message: string;
  /** Ids from the models list, when it was fetched. */
  models?: string[];
  /** The round-trip answer (clipped), when one came back. */
  reply?: string;
  /** Whether the round-trip answer was exactly `MODEL_OK`. */
  replyMatched?: boolean;
}

/** The round-trip prompt and the answer that counts as a match. */
export const DOCTOR_PROMPT = 'Reply with exactly: MODEL_OK';
export const DOCTOR_EXPECTED_REPLY = 'MODEL_OK';

const DEFAULT_TIMEOUT_MS = 10_000;

function safeUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function statusOf(error: unknown): number | undefined {
  const status = asBotError(error).details['status'];
  return typeof status === 'number' ? status : undefined;
}

/** Classifies a failed request: 401/403 → misconfigured, 404 → model_missing, else unreachable. */
function failureStatus(error: unknown, onNotFound: DoctorStatus): DoctorStatus {
  const status = statusOf(error);
  if (status === 401 || status === 403) return 'misconfigured';
  if (status === 404) return onNotFound;
  return 'unreachable';
}

function scriptedReport(input: DoctorInput): DoctorReport {
  const base = { provider: 'scripted' as const, model: 'scripted' };
  if (input.scenariosPath !== undefined) {
    try {
      const file = loadScenarioFile(input.scenariosPath);
      return {
        ...base,
        status: 'scripted',
        message: `offline scripted model (no AI provider is called); ${file.scenarios.length} scenario(s) from ${input.scenariosPath}`,
      };
    } catch (error) {
      return { ...base, status: 'misconfigured', message: asBotError(error).message };
    }
  }
  return { ...base, status: 'scripted', message: 'offline scripted model (no AI provider is called); no remote check' };
}

/**
 * Checks the configured model: `scripted` (no remote check), `misconfigured` (missing settings,
 * rejected key), `unreachable` (connection error, timeout, 5xx), `model_missing` (not in the models
 * list, which is included), or `ok` (listed, and a minimal round trip answered — `replyMatched`
 * says whether it answered exactly `MODEL_OK`). Never throws.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  try {
    return await diagnose(input);
  } catch (error) {
    const redact = createRedactor([input.apiKey]);
    return {
      status: 'unreachable',
      provider: input.provider,
      model: input.provider === 'scripted' ? 'scripted' : `openai:${input.name ?? '?'}`,
      message: redact(clip(`doctor failed unexpectedly: ${asBotError(error).message}`)),
    };
  }
}

async function diagnose(input: DoctorInput): Promise<DoctorReport> {
  if (input.provider === 'scripted') return scriptedReport(input);

  const missing: string[] = [];
  if (!input.name) missing.push('model.name (HARNESS_MODEL)');
  if (!input.baseUrl) missing.push('model.baseUrl (OPENAI_BASE_URL)');
  if (!input.apiKey) missing.push('OPENAI_API_KEY');
  const base = {
    provider: 'openai' as const,
    model: `openai:${input.name ?? '?'}`,
    ...(input.baseUrl ? { baseUrl: safeUrl(input.baseUrl) } : {}),
  };
  if (!input.name || !input.baseUrl || !input.apiKey) {
    return { ...base, status: 'misconfigured', message: `the openai provider needs ${missing.join(', ')}` };
  }

  const redact = createRedactor([input.apiKey]);
  const model = new OpenAiModel({
    apiKey: input.apiKey,
    baseUrl: input.baseUrl,
    model: input.name,
    timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });

  let models: string[];
  try {
    const page = await model.sdk.models.list();
    models = page.data.map((entry) => entry.id).sort();
  } catch (error) {
    const classified = model.classify(error);
    const status = failureStatus(classified, 'unreachable');
    const hint = status === 'misconfigured' ? ' (check OPENAI_API_KEY)' : '';
    return { ...base, status, message: redact(clip(`models list failed: ${classified.message}${hint}`)) };
  }
  if (!models.includes(input.name)) {
    return {
      ...base,
      status: 'model_missing',
      models,
      message: redact(clip(`the server does not list model ${input.name} (model.name); it lists ${models.length} model(s)`)),
    };
  }

  try {
    const response = await model.complete({ messages: [{ role: 'user', content: DOCTOR_PROMPT }], tools: [] });
    const reply = (response.content ?? '').trim();
    const replyMatched = reply.replace(/^["'`]+|["'`.]+$/g, '') === DOCTOR_EXPECTED_REPLY;
    return {
      ...base,
      status: 'ok',
      models,
      reply: redact(clip(reply)),
      replyMatched,
      message: replyMatched
        ? `model ${input.name} answered ${DOCTOR_EXPECTED_REPLY}`
        : `model ${input.name} answered, but not with exactly ${DOCTOR_EXPECTED_REPLY}`,
    };
  } catch (error) {
    const classified = asBotError(error);
    return {
      ...base,
      status: failureStatus(classified, 'model_missing'),
      models,
      message: redact(clip(`round trip failed: ${classified.message}`)),
    };
  }
}
