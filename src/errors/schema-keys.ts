/**
 * The keys a zod schema accepts at a path inside it: what an unknown key is compared with for a "did you
 * mean". Reads zod 4's schema definitions (`_zod.def`), looking through the wrappers options use
 * (optional, default, pipe, union, record, array); an unknown shape yields no keys, never an error.
 */
import type { z } from 'zod';

interface SchemaDef {
  readonly type?: string;
  readonly shape?: Readonly<Record<string, z.core.$ZodType>>;
  readonly innerType?: z.core.$ZodType;
  readonly in?: z.core.$ZodType;
  readonly options?: readonly z.core.$ZodType[];
  readonly valueType?: z.core.$ZodType;
  readonly element?: z.core.$ZodType;
  readonly left?: z.core.$ZodType;
  readonly right?: z.core.$ZodType;
  readonly getter?: () => z.core.$ZodType;
}

/** Wrappers whose inner schema decides the keys. */
const WRAPPERS: ReadonlySet<string> = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'catch',
  'readonly',
  'nonoptional',
  'success',
]);

/** Object keys `schema` accepts at `path` (the keys of every object a union may be there), sorted as declared. */
export function knownKeysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let level: z.core.$ZodType[] = [schema];
  for (const segment of path) {
    level = level.flatMap((s) => objectsOf(s)).flatMap((s) => childOf(s, segment));
  }
  const keys = new Set<string>();
  for (const object of level.flatMap((s) => objectsOf(s))) {
    for (const key of Object.keys(defOf(object).shape ?? {})) keys.add(key);
  }
  return [...keys];
}

function defOf(schema: z.core.$ZodType): SchemaDef {
  const def: SchemaDef = schema._zod.def;
  return def;
}

/** The schemas `schema` stands for once wrappers, pipes, unions and intersections are looked through. */
function objectsOf(schema: z.core.$ZodType, depth = 0): z.core.$ZodType[] {
  if (depth > 16) return [];
  const def = defOf(schema);
  const type = def.type ?? '';
  if (WRAPPERS.has(type) && def.innerType !== undefined) return objectsOf(def.innerType, depth + 1);
  if (type === 'pipe' && def.in !== undefined) return objectsOf(def.in, depth + 1);
  if (type === 'lazy' && def.getter !== undefined) return objectsOf(def.getter(), depth + 1);
  if (type === 'union' && def.options !== undefined) return def.options.flatMap((o) => objectsOf(o, depth + 1));
  if (type === 'intersection' && def.left !== undefined && def.right !== undefined) {
    return [...objectsOf(def.left, depth + 1), ...objectsOf(def.right, depth + 1)];
  }
  return [schema];
}

function childOf(schema: z.core.$ZodType, segment: PropertyKey): z.core.$ZodType[] {
  const def = defOf(schema);
  if (def.type === 'object' && typeof segment === 'string') {
    const child = def.shape?.[segment];
    return child === undefined ? [] : [child];
  }
  if (def.type === 'record' && def.valueType !== undefined) return [def.valueType];
  if (def.type === 'array' && def.element !== undefined && typeof segment === 'number') return [def.element];
  return [];
}
