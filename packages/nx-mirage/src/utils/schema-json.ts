/**
 * The `schema.json` Nx and Nx Console read for an executor or generator, made from its zod schema (the
 * `schema` export of its schema module), so that options are defined once. Used by the asset script after tsc.
 */
import { z } from 'zod';

export function schemaJson(title: string, schema: unknown): Record<string, unknown> {
  if (!schema || typeof schema !== 'object' || !('_zod' in schema)) throw new Error(`${title}: the schema module's "schema" export is not a zod schema`);
  const json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  if (json['type'] !== 'object') throw new Error(`${title}: the schema module's "schema" export is not an object schema (it is ${JSON.stringify(json['type'])})`);
  delete json['$schema'];
  return { $schema: 'https://json-schema.org/schema', version: 2, title, cli: 'nx', ...json };
}
