/**
 * The input schema of an external MCP tool, from the JSON Schema its server lists, as the strict
 * zod object the registry requires (RELIABILITY.md P12): `z.fromJSONSchema` rebuilds it, extra
 * top-level keys are refused even when the server's schema is silent about them, and the server's
 * own schema is checked again with the SDK's Ajv validator, so a keyword zod's conversion does not
 * model (`patternProperties`, `if`/`then`, …) is still enforced before policy sees the call.
 * Error messages name keys and rules, never values.
 */
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation/types.js';
import { z } from 'zod';

const ajv = new AjvJsonSchemaValidator();

/** Why a listed schema cannot be used (the tool is then not offered). */
export class UnusableSchemaError extends Error {}

/**
 * A strict zod schema for one listed input schema.
 * @throws UnusableSchemaError when the schema is not an object schema or cannot be compiled.
 */
export function inputSchemaFromJson(listed: Record<string, unknown>): z.ZodType {
  const { $schema: _dialect, ...schema } = listed;
  if (schema['type'] !== 'object') throw new UnusableSchemaError('its input schema is not of type object');
  const strict: Record<string, unknown> = { ...schema, additionalProperties: false };
  if (strict['properties'] === undefined) strict['properties'] = {};
  let zodSchema: z.ZodType;
  let check: (input: unknown) => { valid: boolean; errorMessage?: string | undefined };
  try {
    zodSchema = z.fromJSONSchema(strict as Parameters<typeof z.fromJSONSchema>[0]);
    check = ajv.getValidator(strict as JsonSchemaType);
  } catch (error) {
    throw new UnusableSchemaError(`its input schema cannot be read (${error instanceof Error ? error.message.slice(0, 120) : 'unknown error'})`);
  }
  return zodSchema.check((payload) => {
    // Only when zod found nothing: one clear complaint, not the same one twice.
    if (payload.issues.length > 0) return;
    const result = check(payload.value);
    if (!result.valid) payload.issues.push({ code: 'custom', input: payload.value, message: (result.errorMessage ?? 'does not match the server schema').slice(0, 200) });
  });
}
