/**
 * The chaos scenario table: each entry is one Slack-driven task the suite kills the bot during.
 * A scenario names the config it needs (extra `config.yaml` lines), the mention that starts it,
 * and how often one uncrashed run reaches each crash point — the crash-point test derives its
 * cases from that and checks it against the reference run's trace, so the table cannot go stale.
 *
 * Adding the PM tree or an external MCP tool is one entry each: a mention, the config lines, the
 * crash-point counts, and `unavailable()` saying why it cannot run in this tree (yet).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CrashPointName } from '../../../src/orchestrator/deps.ts';
import type { TraceEvent } from '../../../src/store/run-schema.ts';
import { REPO_ROOT, REPORT_TASK, makeWorld, type TmpWorld } from '../../integration/slack/support/rig.ts';

/** One row of the table. */
export interface ChaosScenario {
  name: string;
  /** Lines appended to the rig's `config.yaml`. */
  extraYaml: string;
  /** Rewrites the rig's `config.yaml` text (for keys the rig already writes, such as the default role). */
  configure?: (configYaml: string) => string;
  /** The user's message that starts the scenario (mentions the bot). */
  mention: string;
  /** Why this scenario cannot run in this tree, or null when it can. */
  unavailable(): string | null;
  /**
   * How many times one uncrashed run of the whole scenario (every run of its tree) passes each
   * crash point, computed from the reference run's trace events.
   */
  crashHits(trace: readonly TraceEvent[]): Record<CrashPointName, number>;
}

/** Crash-point hits of a tree whose runs' traces are concatenated (see `deps.ts` for the points). */
export function hitsFromTrace(trace: readonly TraceEvent[]): Record<CrashPointName, number> {
  const count = (name: string): number => trace.filter((e) => e.event === name).length;
  const toolStarts = count('tool_start');
  return {
    'after-run-created': count('run_created'),
    'after-model-response': count('model_called'),
    'after-model-persisted': count('model_called'),
    'after-gate-persisted': count('approval_required'),
    'after-approval-recorded': count('approval_granted') + count('approval_rejected'),
    'before-tool-exec': toolStarts,
    'after-tool-exec-before-checkpoint': toolStarts,
    'after-tool-checkpoint': count('tool_ok'),
  };
}

/** The example MCP server the external-tool scenario starts. */
export const NOTES_SERVER = join(REPO_ROOT, 'examples', 'notes-mcp-server', 'server.mjs');

function fileHas(path: string, needle: RegExp): boolean {
  return existsSync(path) && needle.test(readFileSync(path, 'utf8'));
}

/** A gated single run: search → read → write (approval) → result. */
export const SINGLE_RUN: ChaosScenario = {
  name: 'single gated run',
  extraYaml: '',
  mention: `<@U_BOT> ${REPORT_TASK}`,
  unavailable: () => null,
  crashHits: hitsFromTrace,
};

/** The PM tree (issue C): a `pm` run that drafts sub-agents. Needs a scripted PM scenario. */
export const PM_TREE: ChaosScenario = {
  name: 'PM tree',
  extraYaml: '',
  // A Slack mention starts the default role; this world's default is the PM.
  configure: (yaml) => yaml.replace(/^ {2}default: writer$/m, '  default: pm'),
  mention: '<@U_BOT> write a short report on durable execution with your team',
  unavailable: () =>
    fileHas(join(REPO_ROOT, 'scenarios', 'default.yaml'), /draft_agent/)
      ? null
      : 'scenarios/default.yaml has no scripted PM scenario that drafts sub-agents (draft_agent) yet',
  crashHits: hitsFromTrace,
};

/**
 * A gated tool of an external MCP server (issue D): the example notes server over stdio, whose
 * `add_note` (no annotation, so category unknown) needs an approval. Its notes live in the world's
 * `notes/` folder; the random-kill loop resets it per iteration like the workspace's reports.
 */
export const EXTERNAL_MCP_TOOL: ChaosScenario = {
  name: 'external MCP tool',
  extraYaml: [
    'mcp:',
    '  servers:',
    '    - name: notes',
    '      stdio:',
    '        command: node',
    `        args: [${JSON.stringify(NOTES_SERVER)}, --dir, notes]`,
  ].join('\n'),
  mention: '<@U_BOT> notes-keeper: notebook add release checklist',
  unavailable: () =>
    existsSync(NOTES_SERVER) && fileHas(join(REPO_ROOT, 'scenarios', 'default.yaml'), /notes__add_note/) && existsSync(join(REPO_ROOT, 'roles', 'notes-keeper.md'))
      ? null
      : 'needs examples/notes-mcp-server, roles/notes-keeper.md and a scripted scenario calling notes__add_note',
  crashHits: hitsFromTrace,
};

export const CHAOS_SCENARIOS: readonly ChaosScenario[] = [SINGLE_RUN, PM_TREE, EXTERNAL_MCP_TOOL];

/** The rig's tmp world, configured for `scenario`. */
export async function makeScenarioWorld(scenario: ChaosScenario): Promise<TmpWorld> {
  const world = await makeWorld(scenario.extraYaml);
  if (scenario.configure !== undefined) {
    const text = await readFile(world.configPath, 'utf8');
    await writeFile(world.configPath, scenario.configure(text));
  }
  return world;
}
