/**
 * Role contracts (issue C extends these). A role is a markdown file with frontmatter; the runner
 * needs its instructions, its tool allow-list and its budgets.
 */
import type { Budgets } from '../store/run-schema.ts';

export type RoleCategory = 'conversational' | 'worker' | 'reviewer';

export interface RoleDefinition {
  name: string;
  category: RoleCategory;
  description: string;
  /** The markdown body: the role's instructions, sent as the system prompt. */
  instructions: string;
  /** Tool names the role may use, or `*` for every registered tool. */
  tools: readonly string[] | '*';
  model?: string;
  budgets?: Partial<Budgets>;
  /** The file it came from (absolute), for error messages. */
  file?: string;
}

export interface RoleCatalog {
  get(name: string): RoleDefinition | undefined;
  list(): RoleDefinition[];
  readonly defaultRole: string;
}

/** A catalog over a fixed list (tests, and the loader's result). */
export function staticRoleCatalog(roles: readonly RoleDefinition[], defaultRole: string): RoleCatalog {
  const byName = new Map(roles.map((role) => [role.name, role]));
  return {
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    defaultRole,
  };
}
