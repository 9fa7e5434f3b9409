/**
 * The seed's multi-agent vocabulary (planner → executor → reviewer) mapped onto role categories,
 * so `role_handoff` / `role_activity` / `draft_reviewed` events and `handoffs.json` read the way
 * trace-aware evals written against the seed expect.
 */
import type { RoleCategory } from '../role-types.ts';

/** A role's stage in a tree: who plans, who executes, who reviews. */
export type Stage = 'planner' | 'executor' | 'reviewer';

/** conversational → planner, worker → executor, reviewer → reviewer (unknown: executor). */
export function stageOf(category: RoleCategory | undefined): Stage {
  if (category === 'conversational') return 'planner';
  if (category === 'reviewer') return 'reviewer';
  return 'executor';
}

/** The purpose of a draft handoff to a role of `category`: `review` for reviewers, else `draft`. */
export function handoffPurpose(category: RoleCategory): 'draft' | 'review' {
  return stageOf(category) === 'reviewer' ? 'review' : 'draft';
}
