/**
 * Issue C acceptance at the harness level, with the repository's own config.yaml, roles/ and
 * scenarios/default.yaml (the scripted model's `pm` scenario) over the durable lowdb store in a tmp
 * directory: a PM drafts a researcher and a writer and awaits both; the writer's workspace_write
 * gate carries the lineage pm → writer and is approved; the PM answers with both results. The
 * trace shows drafts, handoffs, approvals and completions, every trace replays to its run, and
 * `handoffs.json` lists the planner → executor handoffs. The tools each role sees are listed
 * through the MCP SDK client, and the model was offered exactly those.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Runtime, createRuntime } from '../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import type { ScriptedModel } from '../../../src/model/scripted-model.ts';
import { replayTrace } from '../../../src/orchestrator/apply-event.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';
import { buildHandoffs } from '../../../src/trace/handoffs.ts';
import { untilRun } from '../../unit/agents/tree-fixture.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const requestedBy = { userId: 'U_REQUESTER', source: 'slack' as const };
const TASK = 'Prepare a report on durable execution with your team';

let dir: string | undefined;
let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A copy of the repo's config, roles, scenarios and workspace in a tmp dir (nothing else changed). */
async function boot(): Promise<Runtime> {
  dir = await mkdtemp(join(tmpdir(), 'harness-pm-'));
  for (const item of ['config.yaml', 'roles', 'scenarios', 'workspace']) await cp(join(REPO, item), join(dir, item), { recursive: true });
  const config = loadConfig({ cwd: dir, env: { LOG_LEVEL: 'silent' } });
  runtime = await createRuntime(config, { lock: true });
  return runtime;
}

async function tree(rt: Runtime, rootId: string): Promise<RunDoc[]> {
  const root = await rt.harness.getRun(rootId);
  return [root, ...(await Promise.all(root.run.children.map((id) => rt.harness.getRun(id))))];
}

describe('the pm scenario with the default config and the repo roles', () => {
  it('drafts a researcher and a writer, awaits both, the writer gate (pm → writer) is approved, the PM answers', async () => {
    const rt = await boot();
    const { harness } = rt;
    const pm = await harness.createRun({ task: TASK, role: 'pm', requestedBy });
    const pmId = pm.run.runId;
    void harness.runner.drive(pmId);

    const drafted = await untilRun(harness, pmId, (d) => d.run.children.length === 2);
    const [researcherId, writerId] = drafted.run.children as [string, string];
    const writer = await untilRun(harness, writerId, (d) => d.run.status === 'waiting_approval');
    const gate = writer.run.gates[0]!;
    expect(gate).toMatchObject({ tool: 'workspace_write', status: 'pending', lineage: ['pm', 'writer'], requestedBy: { userId: 'U_REQUESTER', source: 'agent' } });
    // The PM learned about the gate (reported once) and waits through it.
    await untilRun(harness, pmId, (d) => d.run.steps.some((s) => s.tool === 'await_agent' && s.output?.content.includes('"waiting_approval"')));

    await harness.approve({ runId: writerId, actor: { userId: 'U_APPROVER1', source: 'slack' } });
    const done = await untilRun(harness, pmId, (d) => d.run.status === 'completed');
    await rt.subagents.manager.drain();

    const [root, researcher, writerDone] = await tree(rt, pmId);
    expect(researcher!.run).toMatchObject({ role: 'researcher', status: 'completed', parentRunId: pmId });
    expect(writerDone!.run).toMatchObject({ role: 'writer', status: 'completed', lineage: ['pm', 'writer'] });
    expect(done.run.result).toContain('The researcher (completed): Summary of');
    expect(done.run.result).toContain(`The writer (completed): ${writerDone!.run.result}`);
    const reportPath = writerDone!.run.files[0]!.path;
    expect(await readFile(join(dir!, 'workspace', reportPath), 'utf8')).toContain('durable');

    // The trace: drafts, handoffs, approvals, completions.
    const events = root!.trace.map((e) => e.event);
    expect(events.filter((e) => e === 'subagent_drafted')).toHaveLength(2);
    expect(events.filter((e) => e === 'subagent_finished')).toHaveLength(2);
    expect(events.at(-1)).toBe('run_completed');
    expect(writerDone!.trace.map((e) => e.event)).toEqual(expect.arrayContaining(['approval_required', 'approval_granted', 'tool_ok', 'run_completed']));
    expect(writerDone!.trace.find((e) => e.event === 'approval_granted')?.detail).toMatchObject({ by: 'U_APPROVER1' });
    for (const doc of [root!, researcher!, writerDone!]) expect(replayTrace(doc.trace)).toEqual(doc.run);

    const handoffs = buildHandoffs(root!);
    expect(handoffs.run_mode).toBe('multi_agent');
    expect(handoffs.handoffs.map((h) => [h.from_role, h.to_role, h.purpose])).toEqual([
      ['pm', 'researcher', 'draft'],
      ['pm', 'writer', 'draft'],
      ['researcher', 'pm', 'result'],
      ['writer', 'pm', 'result'],
    ]);
    expect(handoffs.handoffs[0]?.payload).toMatchObject({ from_stage: 'planner', to_stage: 'executor' });
    expect(handoffs.role_executions.map((r) => [r.role, r.action])).toEqual([
      ['pm', 'delegated'],
      ['pm', 'delegated'],
      ['researcher', 'completed'],
      ['writer', 'completed'],
    ]);
    expect(buildHandoffs(writerDone!).role_executions.map((r) => r.action)).toEqual(['started']);
    expect(researcherId).not.toBe(writerId);
  });

  it('lists 6 agent tools for pm and 3 for researcher/writer through the MCP client, and offers the model exactly those', async () => {
    const rt = await boot();
    const { harness } = rt;
    const pm = await harness.createRun({ task: 'just look around', role: 'pm', requestedBy });
    const researcher = await harness.createRun({ task: 'look', role: 'researcher', requestedBy });
    const listed = async (doc: RunDoc) => (await (await rt.subagents.provider.session(doc.run))!.client.listTools()).tools.map((t) => t.name).sort();
    expect(await listed(pm)).toEqual(['await_agent', 'draft_agent', 'get_task_context', 'kill_agent', 'list_agents', 'list_tasks']);
    expect(await listed(researcher)).toEqual(['get_task_context', 'list_agents', 'list_tasks']);

    // Drive the tree; every model request's offered tools = the role file's tools + the listed ones.
    const root = await harness.createRun({ task: TASK, role: 'pm', requestedBy });
    void harness.runner.drive(root.run.runId);
    const drafted = await untilRun(harness, root.run.runId, (d) => d.run.children.length === 2);
    await untilRun(harness, drafted.run.children[1]!, (d) => d.run.status === 'waiting_approval');
    const requests = (rt.model as ScriptedModel).requests;
    const offeredTo = (role: string) => {
      const instructions = rt.roles.get(role)!.instructions.trim();
      return requests.filter((r) => r.messages[0]?.content?.startsWith(instructions)).map((r) => r.tools.map((t) => t.name).sort());
    };
    const roleTools = (role: string) => [...(rt.roles.get(role)!.tools as string[])];
    const pmOffered = offeredTo('pm');
    expect(pmOffered.length).toBeGreaterThan(0);
    for (const tools of pmOffered) expect(tools).toEqual([...roleTools('pm'), ...(await listed(pm))].sort());
    for (const role of ['researcher', 'writer']) {
      const offered = offeredTo(role);
      expect(offered.length).toBeGreaterThan(0);
      for (const tools of offered) expect(tools).toEqual([...roleTools(role), ...(await listed(researcher))].sort());
    }
    await harness.cancel(root.run.runId, { userId: 'U_APPROVER1', source: 'admin' }, 'done looking');
  });
});
