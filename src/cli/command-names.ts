/**
 * The CLI's command names, in help order. A separate list so the blueprint can name the CLI's
 * surface without importing the command table (which imports the blueprint command); a unit test
 * keeps the two equal.
 */
export const COMMAND_NAMES = [
  'start',
  'runs',
  'inspect',
  'summary',
  'trace-summary',
  'memory',
  'handoffs',
  'export',
  'history',
  'pending',
  'approve',
  'reject',
  'resume',
  'cancel',
  'retry-step',
  'skip-step',
  'roles',
  'policy',
  'workflow',
  'blueprint',
  'mcp-tools',
  'mcp',
  'doctor',
  'evals',
] as const;
