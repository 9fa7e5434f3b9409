/**
 * Loads `roles/*.md`: YAML frontmatter (name, category, description, model, tools, limits) and a
 * markdown body of instructions. Validated at startup: an unknown category or tool fails with the
 * file and key named, so a typo never silently widens or narrows what an agent may do.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.ts';
import { type RoleCatalog, type RoleDefinition, staticRoleCatalog } from './role-types.ts';

const Frontmatter = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes, starting with a letter'),
  category: z.enum(['conversational', 'worker', 'reviewer']),
  description: z.string().min(1),
  model: z.string().min(1).optional(),
  tools: z.union([z.literal('*'), z.array(z.string().min(1))]),
  limits: z
    .strictObject({
      maxTurns: z.int().positive().optional(),
      maxToolCalls: z.int().positive().optional(),
      maxWallMs: z.int().positive().optional(),
      maxTokens: z.int().positive().optional(),
    })
    .optional(),
});

const FENCE = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/;

/**
 * What `tools` may name: a `Set` of registered names, or any lookup (the runtime also accepts
 * `server__tool` names of configured external MCP servers, whose tools are listed only once the
 * server answers).
 */
export type KnownTools = Pick<ReadonlySet<string>, 'has'>;

/** Parses one role file's text. `knownTools` (if given) are the names `tools` may list. */
export function parseRoleFile(file: string, text: string, knownTools?: KnownTools): RoleDefinition {
  const match = FENCE.exec(text);
  if (!match) throw new ConfigError(`${file}: missing YAML frontmatter between --- lines`);
  let raw: unknown;
  try {
    raw = parseYaml(match[1] ?? '');
  } catch (error) {
    throw new ConfigError(`${file}: frontmatter is not valid YAML`, { cause: error });
  }
  const parsed = Frontmatter.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`${file}: invalid role frontmatter: ${issues.join('; ')}`);
  }
  const fm = parsed.data;
  if (knownTools && fm.tools !== '*') {
    const unknown = fm.tools.filter((tool) => !knownTools.has(tool));
    if (unknown.length > 0) throw new ConfigError(`${file}: tools: unknown tool(s) ${unknown.join(', ')}`);
  }
  const instructions = (match[2] ?? '').trim();
  if (instructions.length === 0) throw new ConfigError(`${file}: the role has no instructions (the markdown body is empty)`);
  return {
    name: fm.name,
    category: fm.category,
    description: fm.description,
    instructions,
    tools: fm.tools,
    ...(fm.model === undefined ? {} : { model: fm.model }),
    ...(fm.limits === undefined ? {} : { budgets: fm.limits }),
    file,
  };
}

/**
 * Loads every `*.md` in `dir`.
 * @throws ConfigError naming the file and key for any invalid role, a duplicate name, an empty
 * folder, or a default role that does not exist.
 */
export function loadRoles(dir: string, defaultRole: string, knownTools?: KnownTools): RoleCatalog {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.md')).sort();
  } catch (error) {
    throw new ConfigError(`roles.dir: cannot read the roles folder ${dir}`, { cause: error });
  }
  if (files.length === 0) throw new ConfigError(`roles.dir: no *.md role files in ${dir}`);
  const roles: RoleDefinition[] = [];
  for (const name of files) {
    const file = join(dir, name);
    const role = parseRoleFile(file, readFileSync(file, 'utf8'), knownTools);
    if (roles.some((r) => r.name === role.name)) throw new ConfigError(`${file}: name: duplicate role "${role.name}"`);
    roles.push(role);
  }
  if (!roles.some((r) => r.name === defaultRole)) {
    throw new ConfigError(`roles.default: no role named "${defaultRole}" in ${dir} (have: ${roles.map((r) => r.name).join(', ')})`);
  }
  return staticRoleCatalog(roles, defaultRole);
}
