/** The command table, in help order (the same order as {@link COMMAND_NAMES}). */
import type { CommandSpec } from '../command.ts';
import { blueprintCommand } from './blueprint.ts';
import { policyCommand, rolesCommand, workflowCommand } from './catalog.ts';
import { doctorCommand } from './doctor.ts';
import { evalsCommand } from './evals.ts';
import { mcpToolsCommand } from './mcp-tools.ts';
import { mcpCommand } from './mcp-server.ts';
import {
  approveCommand,
  cancelCommand,
  rejectCommand,
  resumeCommand,
  retryStepCommand,
  skipStepCommand,
  startCommand,
} from './run-actions.ts';
import {
  exportCommand,
  handoffsCommand,
  historyCommand,
  inspectCommand,
  memoryCommand,
  pendingCommand,
  runsCommand,
  summaryCommand,
  traceSummaryCommand,
} from './run-views.ts';

export const COMMANDS: readonly CommandSpec[] = [
  startCommand,
  runsCommand,
  inspectCommand,
  summaryCommand,
  traceSummaryCommand,
  memoryCommand,
  handoffsCommand,
  exportCommand,
  historyCommand,
  pendingCommand,
  approveCommand,
  rejectCommand,
  resumeCommand,
  cancelCommand,
  retryStepCommand,
  skipStepCommand,
  rolesCommand,
  policyCommand,
  workflowCommand,
  blueprintCommand,
  mcpToolsCommand,
  mcpCommand,
  doctorCommand,
  evalsCommand,
];

/** The command named `name`, or undefined. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
