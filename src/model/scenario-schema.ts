/**
 * The YAML scenario format of the scripted model (DESIGN.md §7). A scenario file is validated in
 * full when it is loaded — unknown keys, invalid regexes, unknown template names and a `fallback`
 * naming no scenario all fail with the offending key path — so a typo surfaces at startup, not in
 * the middle of a run.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.ts';

/** Template names a scenario string may use as `{{name}}`; `last.<path>` is checked separately. */
export const TEMPLATE_NAMES = ['task', 'keywords', 'slug', 'url', 'last', 'last_error', 'report', 'summary'] as const;

/** Matches one `{{ name }}` placeholder; the name is capture group 1. */
export const TEMPLATE_PATTERN = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** True when `name` is a template the scripted model can render. */
export function isKnownTemplate(name: string): boolean {
  if ((TEMPLATE_NAMES as readonly string[]).includes(name)) return true;
  return /^last(\.[A-Za-z0-9_-]+)+$/.test(name);
}

function unknownTemplates(value: unknown): string[] {
  if (typeof value === 'string') {
    return [...value.matchAll(TEMPLATE_PATTERN)].map((m) => m[1] ?? '').filter((name) => !isKnownTemplate(name));
  }
  if (Array.isArray(value)) return value.flatMap(unknownTemplates);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(unknownTemplates);
  return [];
}

const TemplatedString = z.string().superRefine((value, ctx) => {
  const unknown = unknownTemplates(value);
  if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown template {{${unknown.join('}}, {{')}}}` });
});

const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are [A-Za-z0-9_-]{1,64}');

/** One scripted tool call: structured `args` (templated) or `rawArguments` sent verbatim. */
export const ScenarioCall = z
  .strictObject({
    name: ToolName,
    args: z.record(z.string(), z.unknown()).optional(),
    rawArguments: z.string().optional(),
  })
  .superRefine((call, ctx) => {
    if (call.args !== undefined && call.rawArguments !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'use either args or rawArguments, not both' });
    }
    const unknown = unknownTemplates(call.args ?? {});
    if (unknown.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['args'], message: `unknown template {{${unknown.join('}}, {{')}}}` });
    }
  });
export type ScenarioCall = z.infer<typeof ScenarioCall>;

/** One model turn: a final answer (`say`), tool calls (`calls`), or text alongside calls. */
export const ScenarioStep = z
  .strictObject({
    say: TemplatedString.optional(),
    calls: z.array(ScenarioCall).min(1).optional(),
  })
  .refine((step) => step.say !== undefined || step.calls !== undefined, { message: 'a step needs say or calls' });
export type ScenarioStep = z.infer<typeof ScenarioStep>;

/** A named script chosen when `match` (case-insensitive regex) matches the latest user message. */
export const Scenario = z.strictObject({
  name: z.string().min(1),
  match: z.string().min(1).superRefine((source, ctx) => {
    try {
      new RegExp(source, 'i');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(error as Error).message}` });
    }
  }),
  steps: z.array(ScenarioStep).min(1),
  /** Said (final, no tool calls) when the latest tool result is an error. */
  on_error: TemplatedString.optional(),
});
export type Scenario = z.infer<typeof Scenario>;

/** A whole scenario file. */
export const ScenarioFile = z
  .strictObject({
    /** Scenario used when none matches; without it an unmatched task throws. */
    fallback: z.string().min(1).optional(),
    scenarios: z.array(Scenario).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.scenarios.forEach((scenario, index) => {
      if (seen.has(scenario.name)) {
        ctx.addIssue({ code: 'custom', path: ['scenarios', index, 'name'], message: `duplicate scenario name ${scenario.name}` });
      }
      seen.add(scenario.name);
    });
    if (file.fallback !== undefined && !seen.has(file.fallback)) {
      ctx.addIssue({ code: 'custom', path: ['fallback'], message: `no scenario named ${file.fallback}` });
    }
  });
export type ScenarioFile = z.infer<typeof ScenarioFile>;

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`)).join('');
      return `${path.replace(/^\./, '') || '(root)'}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Validates an already parsed scenario document.
 * @throws ConfigError naming `source` and every invalid key path.
 */
export function parseScenarioFile(document: unknown, source = 'scenarios'): ScenarioFile {
  const result = ScenarioFile.safeParse(document);
  if (!result.success) throw new ConfigError(`invalid scenario file ${source}: ${formatIssues(result.error)}`);
  return result.data;
}

/**
 * Reads, parses (YAML) and validates a scenario file.
 * @throws ConfigError when the file is missing, is not YAML, or is invalid.
 */
export function loadScenarioFile(path: string): ScenarioFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read scenario file ${path} (model.scenarios): ${(error as NodeJS.ErrnoException).code ?? 'read error'}`, {
      cause: error,
    });
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`scenario file ${path} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  return parseScenarioFile(document, path);
}
