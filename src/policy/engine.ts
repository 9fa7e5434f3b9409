/**
 * The policy engine (DESIGN.md §4, RELIABILITY.md P11): deterministic code that decides
 * allow | approve | deny for one proposed tool call. `decide` is a pure function of the compiled
 * policy and the call: no I/O, no clock, no randomness, no mutation. Only the structured `call`
 * fields are judged; nothing the model writes (task text, arguments, tool output) is ever read as
 * configuration, so "this is pre-approved" in a prompt changes nothing.
 *
 * The lexical half of path confinement lives here (roots); the filesystem half (symlinks,
 * realpath) is the write tool's preflight, because it needs I/O. See docs/architecture/policy.md.
 */
import { ConfigError } from '../shared/errors.ts';
import { hashJson } from '../shared/canonical-json.ts';
import { PathReason, checkRelativePath, isInsideRoots } from './path-rules.ts';
import { PolicyConfig, ToolPolicy } from './types.ts';
import type { CompiledPolicy, PolicyCall, PolicyConfigInput, PolicyDecision } from './types.ts';

type Category = PolicyCall['category'];
type Verdict = PolicyDecision['decision'];

/** Every action category, in declaration order (taken from the contract, not repeated here). */
export const ACTION_CATEGORIES: readonly Category[] = ToolPolicy.shape.category.unwrap().options;

const HOST_PATTERN = /^(?:\*\.)?[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$/i;
const IPV6_HOST = /^\[[0-9a-f:.]+\]$/i;

/**
 * Parses and checks a policy and pins its version: the first 16 hex characters of the hash of its
 * canonical JSON (defaults filled in), so the version is stable under key order and changes with
 * any content change. The result is deeply frozen.
 *
 * Throws `ConfigError` naming the offending key (e.g. `policy.filesystem.roots[0]`), never its
 * value, when the config does not parse, a write root is not a safe relative path (absolute, `..`,
 * backslash, NUL, empty segment), or an allowed host is not a host name / `*.suffix` pattern.
 */
export function compilePolicy(input: PolicyConfigInput | PolicyConfig): CompiledPolicy {
  const parsed = PolicyConfig.safeParse(input);
  if (!parsed.success) {
    // zod's messages name expectations and keys, not the offending values.
    const problems = parsed.error.issues.map((issue) => `${formatKey(['policy', ...issue.path])}: ${issue.message}`);
    throw new ConfigError(`invalid policy: ${problems.join('; ')}`, { details: { keys: problems } });
  }
  const config = parsed.data;
  config.filesystem.roots.forEach((root, index) => {
    const checked = checkRelativePath(root, { allowRoot: true });
    if (!checked.ok) {
      throw new ConfigError(
        `invalid policy: policy.filesystem.roots[${index}] must be a workspace-relative folder without "..", backslashes or NUL`,
      );
    }
  });
  config.network.allowHosts.forEach((host, index) => {
    if (!HOST_PATTERN.test(host) && !IPV6_HOST.test(host)) {
      throw new ConfigError(
        `invalid policy: policy.network.allowHosts[${index}] must be a host name or a "*.example.com" pattern`,
      );
    }
  });
  return deepFreeze({ config, version: hashJson(config).slice(0, 16) });
}

/**
 * Decides one call. Order (first match wins): unregistered → deny; disabled → deny; outside the
 * role's tool list → deny; then role-tool override ?? tool override ?? role-category override ??
 * category map ?? deny; then every write path must be lexically safe and inside a write root, and
 * every URL http(s) to an allowed host; then the risk floor lifts `allow` to `approve` for any risk
 * above `read`; an `approve` with nobody allowed to decide is a deny.
 *
 * Pure and total: never throws for any call, and the same inputs give a deep-equal result.
 */
export function decide(policy: CompiledPolicy, call: PolicyCall): PolicyDecision {
  const { config } = policy;
  const tool = call.tool;
  const toolPolicy = own(config.tools, tool);
  const rolePolicy = own(config.roles, call.role);
  const category: Category = toolPolicy?.category ?? call.category;
  const verdict = (decision: Verdict, rule: string, reason: string, approvers: string[] = []): PolicyDecision => ({
    decision,
    reason,
    rule,
    policyVersion: policy.version,
    category,
    approvers,
    fourEyes: config.fourEyes,
    gateTtlMs: config.gateTtlMs,
  });
  const name = JSON.stringify(clip(tool, 80));

  if (!call.registered) return verdict('deny', 'unregistered', `tool ${name} is not registered`);
  if (toolPolicy?.enabled === false || call.enabled === false) {
    return verdict('deny', `tool:${tool}:disabled`, `tool ${name} is disabled`);
  }
  if (call.roleTools !== '*' && !call.roleTools.includes(tool)) {
    return verdict('deny', `role:${call.role}:tools`, `role ${JSON.stringify(call.role)} may not use tool ${name}`);
  }

  const base = baseDecision(config, call, toolPolicy, rolePolicy, category);
  if (base.decision === 'deny') {
    return verdict('deny', base.rule, `${base.rule} denies ${name}`);
  }

  const pathProblem = checkWritePaths(config.filesystem.roots, call.writePaths);
  if (pathProblem !== null) return verdict('deny', 'filesystem:roots', pathProblem);
  const urlProblem = checkUrls(config.network.allowHosts, call.urls);
  if (urlProblem !== null) return verdict('deny', 'network:allowHosts', urlProblem);

  let decision = base.decision;
  let rule = base.rule;
  let reason = `${base.rule} ${decision === 'allow' ? 'allows' : 'requires approval for'} ${name}`;
  if (call.risk !== 'read' && decision === 'allow') {
    // P11: anything above read needs a gate, whatever the configuration says.
    decision = 'approve';
    rule = `risk:${call.risk}`;
    reason = `${base.rule} allows ${name}, but its risk "${call.risk}" needs an approval`;
  }
  if (decision === 'allow') return verdict('allow', rule, reason);

  const approvers = approversFor(config, tool, category);
  if (approvers.length === 0) {
    // A gate nobody may decide would wait forever: refuse now and say why.
    return verdict('deny', 'approvers:none', `no approvers configured for ${category}`);
  }
  return verdict('approve', rule, reason, approvers);
}

/**
 * A JSON-safe description of the policy for `harness policy` and `doctor`: the version, the
 * effective category map (unlisted categories shown as `deny`), per-tool and per-role overrides,
 * write roots, allowed hosts, approvers, four-eyes and gate timings. Contains no secrets.
 */
/**
 * Who may decide an action of `tool` in `category`: the tool's own approvers, else the category's,
 * else the default list. Gates get their approvers from here, and so does an operator's choice
 * for an interrupted step that never had a gate.
 */
export function approversFor(config: PolicyConfig, tool: string, category: string): string[] {
  return [...(own(config.tools, tool)?.approvers ?? own(config.approvers.categories, category) ?? config.approvers.default)];
}

export function describePolicy(policy: CompiledPolicy): PolicyDescription {
  const { config } = policy;
  const categories = Object.fromEntries(
    ACTION_CATEGORIES.map((category) => [category, own(config.categories, category) ?? 'deny']),
  ) as Record<Category, Verdict>;
  return {
    version: policy.version,
    defaultDecision: 'deny',
    categories,
    tools: structuredClone(config.tools),
    roles: structuredClone(config.roles),
    filesystem: { roots: [...config.filesystem.roots] },
    network: { allowHosts: [...config.network.allowHosts] },
    approvers: structuredClone(config.approvers),
    riskFloor: 'any risk above "read" needs an approval',
    fourEyes: config.fourEyes,
    gateTtlMs: config.gateTtlMs,
    reminderBeforeMs: config.reminderBeforeMs,
    rejectEndsRun: config.rejectEndsRun,
  };
}

/** What {@link describePolicy} returns. */
export interface PolicyDescription {
  version: string;
  defaultDecision: 'deny';
  categories: Record<Category, Verdict>;
  tools: PolicyConfig['tools'];
  roles: PolicyConfig['roles'];
  filesystem: { roots: string[] };
  network: { allowHosts: string[] };
  approvers: PolicyConfig['approvers'];
  riskFloor: string;
  fourEyes: boolean;
  gateTtlMs: number;
  reminderBeforeMs: number;
  rejectEndsRun: boolean;
}

/**
 * True when `host` (already lower-cased by URL parsing) matches an allow-list entry: exactly, or
 * for `*.example.com` any host ending in `.example.com` (not `example.com` itself). Pure.
 */
export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const h = host.toLowerCase();
  return allowHosts.some((entry) => {
    const pattern = entry.toLowerCase();
    if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
    return h === pattern;
  });
}

function baseDecision(
  config: PolicyConfig,
  call: PolicyCall,
  toolPolicy: PolicyConfig['tools'][string] | undefined,
  rolePolicy: PolicyConfig['roles'][string] | undefined,
  category: Category,
): { decision: Verdict; rule: string } {
  const roleTool = rolePolicy ? own(rolePolicy.tools, call.tool) : undefined;
  if (roleTool !== undefined) return { decision: roleTool, rule: `role:${call.role}:tool:${call.tool}` };
  if (toolPolicy?.decision !== undefined) return { decision: toolPolicy.decision, rule: `tool:${call.tool}` };
  const roleCategory = rolePolicy ? own(rolePolicy.categories, category) : undefined;
  if (roleCategory !== undefined) return { decision: roleCategory, rule: `role:${call.role}:category:${category}` };
  const mapped = own(config.categories, category);
  if (mapped !== undefined) return { decision: mapped, rule: `category:${category}` };
  return { decision: 'deny', rule: 'default:deny' };
}

function checkWritePaths(roots: readonly string[], paths: readonly string[]): string | null {
  if (paths.length === 0) return null;
  const rootSegments: string[][] = [];
  for (const root of roots) {
    const checked = checkRelativePath(root, { allowRoot: true });
    // compilePolicy already refused bad roots; a hand-built policy with one simply gets no root.
    if (checked.ok) rootSegments.push(checked.segments);
  }
  for (const path of paths) {
    const checked = checkRelativePath(path);
    if (!checked.ok) return checked.reason;
    if (!isInsideRoots(checked.segments, rootSegments)) return PathReason.outsideRoots(path, roots);
  }
  return null;
}

function checkUrls(allowHosts: readonly string[], urls: readonly string[]): string | null {
  for (const raw of urls) {
    const shown = JSON.stringify(clip(String(raw), 200));
    if (typeof raw !== 'string' || !URL.canParse(raw)) return `URL ${shown} is not a valid URL`;
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return `URL ${shown} uses scheme ${JSON.stringify(url.protocol.slice(0, -1))}; only http and https are allowed`;
    }
    if (url.username !== '' || url.password !== '') return `URL ${shown} carries credentials; they are not allowed`;
    if (!hostAllowed(url.hostname, allowHosts)) {
      return allowHosts.length === 0
        ? `host ${JSON.stringify(url.hostname)} is not allowed: no hosts are configured (policy.network.allowHosts)`
        : `host ${JSON.stringify(url.hostname)} is not in the allowed hosts ${allowHosts.map((h) => JSON.stringify(h)).join(', ')}`;
    }
  }
  return null;
}

/** Own-property lookup: a tool named `constructor` or `__proto__` must not find Object.prototype. */
function own<V>(record: Partial<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function formatKey(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
