/**
 * Test data for the Block Kit renderers: gates, steps and runs with fixed ids and times (so
 * snapshots are stable), plus hostile text and a P14 checker that walks every string of a
 * rendered payload.
 */
import { expect } from 'vitest';
import { computeArgsHash } from '../../../../src/approvals/args-hash.ts';
import type { Gate, RunDoc, RunState, Step } from '../../../../src/store/run-schema.ts';
import { RUN_DOC_TIME, makeRunDoc, type RunDocOverrides } from '../../../support/run-doc-factory.ts';

export { RUN_DOC_TIME };

/** Text a model or tool might produce to ping people or disguise a link. */
export const HOSTILE =
  'Please <!channel> and <!here>, ask <@U0ADMIN> to click <https://evil.example|Approve> &amp; trust me > ok ``` end';

/** The raw control sequences that must never reach Slack unescaped. */
export const FORBIDDEN = ['<!channel>', '<!here>', '<@U0ADMIN>', '<https://evil.example', '|Approve>'];

export const REQUESTER = 'U0REQ1';
export const APPROVER = 'U0APPR1';
export const OTHER_APPROVER = 'U0APPR2';

/** A pending gate for `workspace_write`; overrides are shallow-merged and the hash recomputed. */
export function makeGate(overrides: Partial<Gate> = {}): Gate {
  const tool = overrides.tool ?? 'workspace_write';
  const args = overrides.args ?? { path: 'notes/report.md', content: 'Quarterly numbers\nline two' };
  const policyVersion = overrides.policyVersion ?? 'policy-test';
  return {
    gateId: 'g_0123456789abcdef',
    runId: 'r_test0001',
    stepId: 's_1',
    tool,
    args,
    argsHash: computeArgsHash(tool, args, policyVersion),
    policyVersion,
    category: 'filesystem_write',
    risk: 'write',
    reason: 'filesystem writes need approval',
    requestedBy: { userId: REQUESTER, source: 'slack' },
    lineage: ['pm', 'writer'],
    approvers: [APPROVER, OTHER_APPROVER],
    fourEyes: true,
    nonce: 'nonce_ABC123',
    status: 'pending',
    createdAt: RUN_DOC_TIME,
    expiresAt: RUN_DOC_TIME + 30 * 60_000,
    remindedAt: null,
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    decisionSource: null,
    editedArgs: null,
    approvedHash: null,
    card: null,
    ...overrides,
  };
}

/** A step at `index`; overrides are shallow-merged. */
export function makeStep(index: number, overrides: Partial<Step> = {}): Step {
  return {
    stepId: `s_${index + 1}`,
    turn: index,
    index,
    toolCallId: `call_${index + 1}`,
    tool: 'workspace_read',
    argumentsJson: '{"path":"notes/a.md"}',
    args: { path: 'notes/a.md' },
    originalArgs: null,
    argsHash: null,
    category: 'read_only',
    risk: 'read',
    idempotent: true,
    status: 'succeeded',
    decision: null,
    gateId: null,
    attempts: 1,
    startedAt: RUN_DOC_TIME + index * 1000,
    finishedAt: RUN_DOC_TIME + index * 1000 + 500,
    durationMs: 500,
    output: { isError: false, content: 'ok' },
    ...overrides,
  };
}

/** A valid run document (via the shared factory) with a Slack requester and lineage pm → writer. */
export function makeDoc(run: Partial<RunState> = {}, rest: Omit<RunDocOverrides, 'run'> = {}): RunDoc {
  return makeRunDoc({
    ...rest,
    run: {
      role: 'writer',
      lineage: ['pm', 'writer'],
      requestedBy: { userId: REQUESTER, source: 'slack' },
      origin: { kind: 'slack', teamId: 'T0TEAM', channel: 'C0CHAN', threadTs: '1700000000.000100' },
      ...run,
    },
  });
}

/** A run waiting on `gate` (the gate and its step are in the run). */
export function waitingRun(gate: Gate, run: Partial<RunState> = {}): RunState {
  return makeDoc({
    status: 'waiting_approval',
    steps: [makeStep(0, { stepId: gate.stepId, tool: gate.tool, status: 'awaiting_approval', gateId: gate.gateId })],
    gates: [gate],
    ...run,
  }).run;
}

/** Calls `visit` with every string value (and its key) anywhere in `value`. */
export function walkStrings(value: unknown, visit: (text: string, key: string) => void, key = ''): void {
  if (typeof value === 'string') visit(value, key);
  else if (Array.isArray(value)) for (const item of value) walkStrings(item, visit, key);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walkStrings(v, visit, k);
  }
}

const DATE_TOKEN = /<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ>/g;

/**
 * P14: no `<` or `>` in any rendered string except the tokens the renderer builds itself —
 * mentions of `allowedUsers` (validated ids from the gate/run), Slack date tokens, and links under
 * `linkBase`. `initial_value` is exempt: an input's value is raw (not rendered as markup).
 */
export function expectNoForeignMarkup(payload: unknown, allowedUsers: readonly string[], linkBase?: string): void {
  const offenders: string[] = [];
  walkStrings(payload, (text, key) => {
    if (key === 'initial_value') return;
    let rest = text.replace(DATE_TOKEN, '');
    for (const user of allowedUsers) rest = rest.split(`<@${user}>`).join('');
    if (linkBase !== undefined) rest = rest.replace(new RegExp(`<${linkBase.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/[^<>|]+\\|[^<>]+>`, 'g'), '');
    if (/[<>]/.test(rest)) offenders.push(`${key}: ${rest.slice(0, 200)}`);
    for (const forbidden of FORBIDDEN) if (text.includes(forbidden)) offenders.push(`${key}: contains ${forbidden}`);
  });
  expect(offenders).toEqual([]);
}
