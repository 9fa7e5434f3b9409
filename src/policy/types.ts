/**
 * Policy configuration and decisions (contract, DESIGN.md §4). Pure data: this module and the
 * engine beside it import neither store nor Slack, and nothing the model produces reaches them
 * except the call being judged.
 */
import { z } from 'zod';
import { ActionCategory, Decision, type Risk } from '../shared/vocabulary.ts';

const UserList = z.array(z.string().min(1));

export const ToolPolicy = z.strictObject({
  enabled: z.boolean().default(true),
  decision: Decision.optional(),
  category: ActionCategory.optional(),
  approvers: UserList.optional(),
});

export const RolePolicy = z.strictObject({
  tools: z.record(z.string(), Decision).default({}),
  categories: z.partialRecord(ActionCategory, Decision).default({}),
});

export const PolicyConfig = z.strictObject({
  /** Category → decision. A category not listed is denied (deny by default). */
  categories: z.partialRecord(ActionCategory, Decision).default({
    read_only: 'allow',
    model_generation: 'allow',
    agent_lifecycle: 'allow',
    filesystem_write: 'approve',
    network: 'approve',
    external_message: 'approve',
    unknown: 'approve',
  }),
  tools: z.record(z.string(), ToolPolicy).default({}),
  roles: z.record(z.string(), RolePolicy).default({}),
  filesystem: z
    .strictObject({
      /** Workspace-relative folders writes may go to; `.` is the whole workspace. */
      roots: z.array(z.string().min(1)).default(['reports']),
    })
    .default({ roots: ['reports'] }),
  network: z
    .strictObject({
      /** Exact host names (or `*.example.com` suffix patterns) `http_fetch` may reach. */
      allowHosts: z.array(z.string().min(1)).default([]),
    })
    .default({ allowHosts: [] }),
  approvers: z
    .strictObject({
      default: UserList.default([]),
      categories: z.partialRecord(ActionCategory, UserList).default({}),
    })
    .default({ default: [], categories: {} }),
  /** When true, the requester of a gate may never decide it. */
  fourEyes: z.boolean().default(true),
  gateTtlMs: z.int().positive().default(24 * 60 * 60 * 1000),
  reminderBeforeMs: z.int().nonnegative().default(60 * 60 * 1000),
  /** When true, a rejection fails the run instead of returning the reason to the model. */
  rejectEndsRun: z.boolean().default(false),
});
export type PolicyConfig = z.infer<typeof PolicyConfig>;
export type PolicyConfigInput = z.input<typeof PolicyConfig>;

/** A policy with its version hash (pinned on every run, part of every gate's args hash). */
export interface CompiledPolicy {
  readonly config: PolicyConfig;
  readonly version: string;
}

/** Everything `decide` looks at. Built by the runner from the registry and the validated call. */
export interface PolicyCall {
  tool: string;
  /** False for names the registry does not know: always denied. */
  registered: boolean;
  enabled?: boolean;
  category: ActionCategory;
  risk: Risk;
  role: string;
  /** Tools the role may use (from the role file); a tool outside it is denied. */
  roleTools: readonly string[] | '*';
  writePaths: readonly string[];
  urls: readonly string[];
}

export interface PolicyDecision {
  decision: Decision;
  reason: string;
  rule: string;
  policyVersion: string;
  /** Category after per-tool overrides. */
  category: ActionCategory;
  /** For `approve`: who may decide, and under which rules. */
  approvers: string[];
  fourEyes: boolean;
  gateTtlMs: number;
}
