/**
 * The binding between an approval and what runs (P10):
 * `argsHash = sha256(canonicalJson({ tool, args, policyVersion }))`.
 * Execution recomputes it; any difference means what would run is not what was approved.
 */
import { hashJson } from '../shared/canonical-json.ts';

/** The hash a gate stores and execution recomputes. */
export function computeArgsHash(tool: string, args: unknown, policyVersion: string): string {
  return hashJson({ tool, args, policyVersion });
}

/** The short form shown on cards and in the CLI. */
export function hashPrefix(hash: string): string {
  return hash.slice(0, 12);
}
