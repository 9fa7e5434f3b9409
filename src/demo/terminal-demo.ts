/**
 * The interactive terminal demo (`npm run demo`, `src/demo/main.ts`; `npm start` opens the browser workspace):
 * type a task, watch the run, decide its gates, see the result. It drives the very same Harness
 * the CLI and Slack use, on the embedded defaults (scripted model, ./data, ./workspace).
 */
import type { Interface as ReadlineInterface } from 'node:readline/promises';
import type { Runtime } from '../app/create-runtime.ts';
import { hashPrefix } from '../approvals/args-hash.ts';
import { asBotError } from '../shared/errors.ts';
import type { RunDoc, TraceEvent } from '../store/run-schema.ts';

/** Where the demo writes; a function so tests can capture it. */
export type Print = (line: string) => void;

const REQUESTER = 'U_REQUESTER';

/** Runs the demo loop until the input ends or the user types `quit`. */
export async function runTerminalDemo(runtime: Runtime, rl: ReadlineInterface, print: Print): Promise<void> {
  lineReader(rl); // start buffering input now, before anything awaits
  const { harness, config, policy } = runtime;
  const approvers = policy.config.approvers.default;
  print(`slack-harness · offline demo · model ${runtime.model.name} · data ${config.dataDir}`);
  print(`Roles: ${runtime.roles.list().map((r) => r.name).join(', ')} (default ${runtime.roles.defaultRole}).`);
  print('Type a task, e.g. "write a short report on durable execution", or "quit".');
  const unsubscribe = harness.onCommit(({ events }) => {
    for (const event of events) {
      const line = describeEvent(event);
      if (line) print(`  ${line}`);
    }
  });
  try {
    for (;;) {
      const task = (await ask(rl, '\ntask> '))?.trim();
      if (task === undefined || task === 'quit' || task === 'exit') return;
      if (task.length === 0) continue;
      try {
        let doc = await harness.startRun({ task, requestedBy: { userId: REQUESTER, source: 'cli' } });
        while (doc.run.status === 'waiting_approval') {
          const next = await decide(runtime, rl, print, doc, approvers);
          if (next === 'later') break;
          doc = next;
        }
        print(summary(doc));
      } catch (error) {
        print(`error: ${asBotError(error).message}`);
      }
    }
  } finally {
    unsubscribe();
  }
}

async function decide(
  runtime: Runtime,
  rl: ReadlineInterface,
  print: Print,
  doc: RunDoc,
  approvers: string[],
): Promise<RunDoc | 'later'> {
  const gate = doc.run.gates.find((g) => g.status === 'pending');
  if (!gate) return 'later';
  const approver = approvers[0] ?? 'U_APPROVER1';
  print(`\n  Approval needed for ${gate.tool} (${gate.category}, risk ${gate.risk}), asked by ${gate.requestedBy.userId}`);
  print(`  Reason: ${gate.reason}`);
  print(`  Arguments (hash ${hashPrefix(gate.argsHash)}):`);
  for (const line of JSON.stringify(gate.args, null, 2).split('\n').slice(0, 24)) print(`    ${line}`);
  const answer = (await ask(rl, `  [a]pprove as ${approver}, [r]eject, or [l]ater? `))?.trim().toLowerCase();
  const actor = { userId: approver, source: 'cli' as const };
  if (answer === 'a' || answer === 'approve') return (await runtime.harness.approve({ runId: doc.run.runId, gateId: gate.gateId, actor })).doc;
  if (answer === 'r' || answer === 'reject') {
    const reason = (await ask(rl, '  reason> '))?.trim() || 'rejected in the terminal demo';
    return (await runtime.harness.reject({ runId: doc.run.runId, gateId: gate.gateId, actor, reason })).doc;
  }
  print(`  Left waiting. Later: npm run harness -- approve ${doc.run.runId} --as ${approver}`);
  return 'later';
}

const lineReaders = new WeakMap<ReadlineInterface, AsyncIterator<string>>();

/** The buffered line iterator of `rl`, created on first use (call it before any await). */
function lineReader(rl: ReadlineInterface): AsyncIterator<string> {
  let lines = lineReaders.get(rl);
  if (!lines) {
    lines = rl[Symbol.asyncIterator]();
    lineReaders.set(rl, lines);
  }
  return lines;
}

/**
 * Prompts and reads the next line. Lines are read through readline's async iterator, which
 * buffers them: `rl.question` drops lines typed (or piped) while no question is pending, e.g.
 * while a run executes. Undefined when the input ended (Ctrl-D, end of piped input).
 */
async function ask(rl: ReadlineInterface, prompt: string): Promise<string | undefined> {
  const lines = lineReader(rl);
  rl.setPrompt(prompt);
  rl.prompt();
  const next = await lines.next();
  return next.done ? undefined : next.value;
}

function describeEvent(event: TraceEvent): string | null {
  const d = event.detail;
  switch (event.event) {
    case 'run_created':
      return `run ${event.runId} created (role ${String(d['role'])})`;
    case 'tool_ok':
      return `✓ ${String(d['tool'])} (${String(d['durationMs'])} ms)`;
    case 'tool_error':
      return `✗ ${String(d['tool'])}: ${JSON.stringify(d['error'])}`;
    case 'policy_denied':
      return `⛔ ${String(d['tool'])} denied: ${String(d['reason'])}`;
    case 'tool_call_invalid':
      return `⚠ invalid call to ${String(d['tool'])}: ${String(d['error'])}`;
    case 'approval_granted':
      return `approved by ${String(d['by'])}`;
    case 'approval_rejected':
      return `rejected by ${String(d['by'])}: ${String(d['reason'])}`;
    default:
      return null;
  }
}

function summary(doc: RunDoc): string {
  const { run } = doc;
  const lines = [`\nrun ${run.runId}: ${run.status}`];
  if (run.result) lines.push(run.result);
  if (run.error) lines.push(`error: ${run.error.message}`);
  for (const file of run.files) lines.push(`file: ${file.path} (${file.bytes} bytes)`);
  return lines.join('\n');
}
