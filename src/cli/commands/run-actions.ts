/**
 * Write commands: `start`, `approve`, `reject`, `resume`, `cancel`, `retry-step`, `skip-step`.
 * Each validates its arguments before any I/O, resolves the run read-only (an unknown run creates
 * nothing), then builds one admin request (src/admin/protocol.ts) that {@link applyWrite} hands to
 * the running bot over its admin socket, or applies under the data-dir lock when no bot runs.
 * Either way the same Harness methods the Slack side calls do the work, so the CLI can never skip
 * a check the bot makes.
 */
import type { AdminResult } from '../../admin/index.ts';
import type { RunDoc } from '../../store/run-schema.ts';
import { RUN_OPTIONS, jsonOption, requiredOption, runRef, stringOption } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { DEFAULT_CLI_USER, applyWrite } from '../context.ts';
import { InvariantError, UsageError } from '../../shared/errors.ts';
import type { CommandOutput } from '../output.ts';
import { gateView, renderOutcome, runOutcome } from '../render.ts';

const ONE_RUN = { min: 0, max: 1, names: '<run>' };

/** The actor of a request; the applying side records it with source `cli`. */
function cliActor(userId: string): { userId: string } {
  return { userId };
}

function requireRunId(runId: string | undefined): string {
  if (runId === undefined) throw new InvariantError('a run command resolved no run id');
  return runId;
}

function outcomeOutput(doc: RunDoc, extra: Record<string, unknown> = {}, prefix = ''): CommandOutput {
  const outcome = runOutcome(doc);
  return { data: { ...extra, run: outcome }, text: prefix + renderOutcome(outcome) };
}

/** `harness start [--role R] [--user U] "<task>"`. */
export const startCommand: CommandSpec = {
  name: 'start',
  usage: 'harness start [--role R] [--user U] "<task>"',
  summary: `start a run and drive it until it pauses or ends (requester defaults to ${DEFAULT_CLI_USER})`,
  options: { role: { type: 'string' }, user: { type: 'string' } },
  positionals: { min: 1, max: 1, names: '"<task>"' },
  writes: true,
  async run({ ctx, values, positionals }) {
    const task = positionals[0] ?? '';
    if (task.trim().length === 0) throw new UsageError('start: the task is empty');
    const role = stringOption(values, 'role');
    const user = stringOption(values, 'user')?.trim() || DEFAULT_CLI_USER;
    const { doc } = await applyWrite(ctx, undefined, () => ({
      v: 1,
      op: 'start',
      args: { task, ...(role === undefined ? {} : { role }) },
      actor: cliActor(user),
    }));
    return outcomeOutput(doc);
  },
};

function decisionOutput({ doc, gate }: AdminResult, verb: string): CommandOutput {
  if (gate === undefined) throw new InvariantError(`a ${verb} decision returned no gate`);
  const decided = gateView(doc.run.gates.find((g) => g.gateId === gate.gateId) ?? gate);
  return outcomeOutput(doc, { decision: decided }, `gate ${decided.gate_id} (${decided.tool}) ${verb} by ${decided.decided_by ?? '?'}\n\n`);
}

/** `harness approve <run> --as <user> [--gate G] [--edit-args JSON]`. */
export const approveCommand: CommandSpec = {
  name: 'approve',
  usage: 'harness approve <run>|--latest --as <user> [--gate G] [--edit-args JSON] [--reason R]',
  summary: "approve the run's pending gate (optionally with edited arguments) and continue the run",
  options: { ...RUN_OPTIONS, as: { type: 'string' }, gate: { type: 'string' }, 'edit-args': { type: 'string' }, reason: { type: 'string' } },
  positionals: ONE_RUN,
  writes: true,
  async run({ ctx, values, positionals }) {
    const ref = runRef('approve', positionals[0], values);
    const as = requiredOption('approve', values, 'as', '<user>');
    const editedArgs = jsonOption('approve', values, 'edit-args');
    const gateId = stringOption(values, 'gate');
    const reason = stringOption(values, 'reason');
    const result = await applyWrite(ctx, ref, (runId) => ({
      v: 1,
      op: 'approve',
      args: {
        runId: requireRunId(runId),
        ...(gateId === undefined ? {} : { gateId }),
        ...(editedArgs === undefined ? {} : { editedArgs }),
        ...(reason === undefined ? {} : { reason }),
      },
      actor: cliActor(as),
    }));
    return decisionOutput(result, 'approved');
  },
};

/** `harness reject <run> --as <user> --reason "…" [--gate G]`. */
export const rejectCommand: CommandSpec = {
  name: 'reject',
  usage: 'harness reject <run>|--latest --as <user> --reason "<why>" [--gate G]',
  summary: 'reject the pending gate; the model is told the reason and the run continues',
  options: { ...RUN_OPTIONS, as: { type: 'string' }, gate: { type: 'string' }, reason: { type: 'string' } },
  positionals: ONE_RUN,
  writes: true,
  async run({ ctx, values, positionals }) {
    const ref = runRef('reject', positionals[0], values);
    const as = requiredOption('reject', values, 'as', '<user>');
    const reason = requiredOption('reject', values, 'reason', '"<why>" (the model is shown it)');
    const gateId = stringOption(values, 'gate');
    const result = await applyWrite(ctx, ref, (runId) => ({
      v: 1,
      op: 'reject',
      args: { runId: requireRunId(runId), reason, ...(gateId === undefined ? {} : { gateId }) },
      actor: cliActor(as),
    }));
    return decisionOutput(result, 'rejected');
  },
};

/** `harness resume <run> [--as <user>]`. */
export const resumeCommand: CommandSpec = {
  name: 'resume',
  usage: 'harness resume <run>|--latest [--as <user>]',
  summary: 'continue a run left queued/running by a crash, or ask again after its gate expired',
  options: { ...RUN_OPTIONS, as: { type: 'string' } },
  positionals: ONE_RUN,
  writes: true,
  async run({ ctx, values, positionals }) {
    const ref = runRef('resume', positionals[0], values);
    const as = stringOption(values, 'as')?.trim() || DEFAULT_CLI_USER;
    const { doc } = await applyWrite(ctx, ref, (runId) => ({ v: 1, op: 'resume', args: { runId: requireRunId(runId) }, actor: cliActor(as) }));
    return outcomeOutput(doc);
  },
};

/** `harness cancel <run> [--as U] [--reason R]`. */
export const cancelCommand: CommandSpec = {
  name: 'cancel',
  usage: 'harness cancel <run>|--latest [--as <user>] [--reason R]',
  summary: 'cancel a run that has not ended (its pending gates are cancelled too)',
  options: { ...RUN_OPTIONS, as: { type: 'string' }, reason: { type: 'string' } },
  positionals: ONE_RUN,
  writes: true,
  async run({ ctx, values, positionals }) {
    const ref = runRef('cancel', positionals[0], values);
    const as = stringOption(values, 'as')?.trim() || DEFAULT_CLI_USER;
    const reason = stringOption(values, 'reason')?.trim() || undefined;
    const { doc } = await applyWrite(ctx, ref, (runId) => ({
      v: 1,
      op: 'cancel',
      args: { runId: requireRunId(runId), ...(reason === undefined ? {} : { reason }) },
      actor: cliActor(as),
    }));
    return outcomeOutput(doc);
  },
};

function attentionCommand(name: 'retry-step' | 'skip-step', summary: string): CommandSpec {
  return {
    name,
    usage: `harness ${name} <run>|--latest --as <user>`,
    summary,
    options: { ...RUN_OPTIONS, as: { type: 'string' } },
    positionals: ONE_RUN,
    writes: true,
    async run({ ctx, values, positionals }) {
      const ref = runRef(name, positionals[0], values);
      const as = requiredOption(name, values, 'as', '<user>');
      const { doc } = await applyWrite(ctx, ref, (runId) => ({ v: 1, op: name, args: { runId: requireRunId(runId) }, actor: cliActor(as) }));
      return outcomeOutput(doc);
    },
  };
}

/** `harness retry-step <run> --as U`. */
export const retryStepCommand = attentionCommand('retry-step', 'needs_attention: run the unfinished step again');
/** `harness skip-step <run> --as U`. */
export const skipStepCommand = attentionCommand('skip-step', 'needs_attention: skip the unfinished step and continue');
