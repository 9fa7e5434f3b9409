/**
 * A fake {@link ModelPort} for multi-agent tests: one model per role, chosen from the request's
 * system prompt (the runner builds it from the role's instructions, then a blank line). A harness
 * has one model for all its runs, so a tree of a PM, a researcher and a writer needs this to give
 * each role its own script. It fails loudly when no role, or more than one, matches.
 */
import type { ModelPort, ModelRequest, ModelResponse } from '../../../model/port.ts';
import { UnexpectedModelCallError } from '../../../model/scripted-model.ts';
import type { RoleDefinition } from '../../role-types.ts';

/** Routes each call to the model of the role whose instructions open the system prompt. */
export class RoleRoutedModel implements ModelPort {
  readonly name = 'scripted';
  private readonly routes: { prefix: string; role: string; model: ModelPort }[];

  /** @throws UnexpectedModelCallError when two roles have the same instructions (they could not be told apart). */
  constructor(routes: readonly (readonly [RoleDefinition, ModelPort])[]) {
    this.routes = routes.map(([role, model]) => ({ prefix: `${role.instructions.trim()}\n\n`, role: role.name, model }));
    const prefixes = new Set(this.routes.map((r) => r.prefix));
    if (prefixes.size !== this.routes.length) throw new UnexpectedModelCallError('RoleRoutedModel: two roles have the same instructions');
  }

  /**
   * Answers with the matching role's model.
   * @throws UnexpectedModelCallError when the system prompt matches no role or several.
   */
  complete(request: ModelRequest): Promise<ModelResponse> {
    const system = request.messages[0];
    const content = system?.role === 'system' ? system.content : '';
    const matches = this.routes.filter((r) => content.startsWith(r.prefix));
    if (matches.length !== 1) {
      return Promise.reject(
        new UnexpectedModelCallError(`RoleRoutedModel: the system prompt matches ${matches.length} roles (${matches.map((m) => m.role).join(', ') || 'none'})`, {
          retryable: false,
        }),
      );
    }
    return matches[0]!.model.complete(request);
  }
}
