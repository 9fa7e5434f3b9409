/**
 * Child process of the tree crash test (issue C): `node --import tsx tree-child.ts <action>` with
 * HARNESS_CONFIG pointing at a tmp copy of the repo's config (roles, scenarios, workspace).
 *
 *   start    create a PM run on the `pm` scenario and drive it until the writer waits for approval
 *            and the PM waits in its second await_agent; print {"ready":true,pmId,writerId} and
 *            keep running (the test SIGKILLs the process here)
 *   resume   recover(), approve the writer's pending gate, wait for the PM to finish; print
 *            {"ok":true,...} and exit
 */
import { createRuntime } from '../../../src/app/create-runtime.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import type { Harness } from '../../../src/orchestrator/harness.ts';
import type { RunDoc } from '../../../src/store/run-schema.ts';

export const TREE_TASK = 'Prepare a report on durable execution with your team';

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** The doc once `predicate` holds, re-checked after every commit. */
function until(harness: Harness, runId: string, predicate: (doc: RunDoc) => boolean): Promise<RunDoc> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (): void => {
      harness.deps.store.get(runId).then((doc) => {
        if (!done && doc && predicate(doc)) {
          done = true;
          off();
          resolve(doc);
        }
      }, reject);
    };
    const off = harness.onCommit(check);
    check();
  });
}

async function main(): Promise<void> {
  const action = process.argv[2];
  const runtime = await createRuntime(loadConfig({ env: { HARNESS_CONFIG: process.env['HARNESS_CONFIG'], LOG_LEVEL: 'silent' } }), { lock: true });
  const { harness } = runtime;
  if (action === 'start') {
    const pm = await harness.createRun({ task: TREE_TASK, role: 'pm', requestedBy: { userId: 'U_REQUESTER', source: 'slack' } });
    const pmId = pm.run.runId;
    void harness.runner.drive(pmId);
    const drafted = await until(harness, pmId, (d) => d.run.children.length === 2);
    const writerId = drafted.run.children[1]!;
    await until(harness, writerId, (d) => d.run.status === 'waiting_approval');
    // The PM reported the gate once and now waits in the next await_agent (step 3.0).
    await until(harness, pmId, (d) => d.run.steps.some((s) => s.stepId === '3.0' && s.tool === 'await_agent' && s.status === 'started'));
    print({ ready: true, pmId, writerId });
    await new Promise(() => undefined); // until SIGKILL
  }
  if (action === 'resume') {
    const recovered = await harness.recover();
    const writerId = process.argv[3]!;
    const pmId = process.argv[4]!;
    await harness.approve({ runId: writerId, actor: { userId: 'U_APPROVER1', source: 'cli' } });
    const done = await until(harness, pmId, (d) => d.run.status === 'completed' || d.run.status === 'failed' || d.run.status === 'cancelled');
    await runtime.subagents.manager.drain();
    print({ ok: true, recovered, status: done.run.status, result: done.run.result });
    await runtime.close();
    return;
  }
  throw new Error(`unknown action ${String(action)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
