/**
 * The schema.json files the package ships (what Nx validates options with and Nx Console shows) against the
 * zod schemas the executors and generators parse their options with: the same options, the same required
 * ones, defaults and enum values the code accepts, types it refuses otherwise, and no unknown option.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './workspace';

const pkg = join(repoRoot, 'packages', 'nx-mirage');

type Parser = { safeParse(v: unknown): { success: boolean; data?: unknown } };
type JsonProperty = { type?: string | string[]; enum?: unknown[]; default?: unknown; description?: string };
type Shipped = { title: string; type: string; properties?: Record<string, JsonProperty>; required?: string[]; additionalProperties?: unknown };

/** The object shape of a zod schema, through refinements and pipes. */
function shapeOf(schema: unknown): Record<string, Parser> {
  let s = schema as { shape?: Record<string, Parser>; _zod: { def: { in?: unknown; schema?: unknown } } };
  while (!s.shape && (s._zod.def.in || s._zod.def.schema)) s = (s._zod.def.in ?? s._zod.def.schema) as typeof s;
  if (!s.shape) throw new Error('not an object schema');
  return s.shape;
}

/** A value of another JSON type than `type`, which the option must refuse. */
const WRONG: Record<string, unknown> = { boolean: 'yes', string: 42, number: 'many', integer: 'many', array: 'a', object: 'a' };

const entries = (['executors', 'generators'] as const).flatMap((kind) => {
  const file = JSON.parse(readFileSync(join(pkg, `${kind}.json`), 'utf8'))[kind] as Record<string, { schema: string; implementation?: string; factory?: string }>;
  return Object.entries(file).map(([name, e]) => ({ kind, name, schemaFile: join(pkg, e.schema), module: join(pkg, dirname((e.implementation ?? e.factory)!), 'schema.js') }));
});

describe.each(entries)('$kind $name', ({ name, schemaFile, module }) => {
  const shipped = JSON.parse(readFileSync(schemaFile, 'utf8')) as Shipped;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const schema = require(module).schema as Parser;
  const shape = shapeOf(schema);

  it('ships an object schema with exactly the options the code accepts, and refuses others', () => {
    expect(shipped.title).toBe(`nx-mirage:${name}`);
    expect(shipped.type).toBe('object');
    expect(Object.keys(shipped.properties ?? {}).sort()).toEqual(Object.keys(shape).sort());
    expect(shipped.additionalProperties).toBe(false);
    expect(schema.safeParse({ notAnOption: true }).success).toBe(false);
  });

  it('requires exactly the options the code requires', () => {
    const required = Object.keys(shape).filter((k) => !shape[k]!.safeParse(undefined).success);
    expect([...(shipped.required ?? [])].sort()).toEqual(required.sort());
  });

  it('ships defaults and enum values the code accepts, and types the code checks', () => {
    for (const [key, property] of Object.entries(shipped.properties ?? {})) {
      const option = shape[key]!;
      if ('default' in property) expect(option.safeParse(property.default), `${key} default`).toMatchObject({ success: true, data: property.default });
      for (const value of property.enum ?? []) expect(option.safeParse(value).success, `${key} = ${JSON.stringify(value)}`).toBe(true);
      if (property.enum) expect(option.safeParse('not-one-of-them').success, `${key} enum`).toBe(false);
      const type = typeof property.type === 'string' ? property.type : undefined;
      if (type && type in WRONG) expect(option.safeParse(WRONG[type]).success, `${key} refuses a non-${type}`).toBe(false);
      expect(property.description ?? '', `${key} is described`).toMatch(/\w/);
    }
  });
});
