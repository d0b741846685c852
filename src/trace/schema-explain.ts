// Why a value fails its TypeBox schema, as one short cause a person can act on:
// `exec.mm is not a 0x hex string`, `exit.exitCode is missing`, `proc_snapshot.maps[0].end is
// not an integer`. The slow path only: it runs after the compiled check said no. Into a union
// that a bad object was meant to match (a file ref), it follows the closest variant, so the
// cause names the bad field, not "no union member matched".
import { Kind, type TSchema } from '@sinclair/typebox';
import { Errors, ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

/** `/maps/0/end` → `.maps[0].end` (JSON pointer escapes undone). */
function pathText(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('');
}

/** What the schema accepts, in words. */
function expected(schema: TSchema): string {
  if (typeof schema.description === 'string') return schema.description;
  const variants = schema.anyOf as TSchema[] | undefined;
  switch (schema[Kind]) {
    case 'Integer':
      return 'an integer';
    case 'String':
      return 'a string';
    case 'Boolean':
      return 'a boolean';
    case 'Null':
      return 'null';
    case 'Array':
      return 'an array';
    case 'Object':
      return 'an object';
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Union':
      if (variants!.every((v) => v[Kind] === 'Literal')) return `one of ${variants!.map((v) => String(v.const)).join('|')}`;
      // Null last reads better: "a 0x hex string or null".
      return [...variants!.filter((v) => v[Kind] !== 'Null').map(expected), ...(variants!.some((v) => v[Kind] === 'Null') ? ['null'] : [])].join(' or ');
    default:
      return `a ${String(schema[Kind]).toLowerCase()}`;
  }
}

/** The object variant of a union that `value` (an object) was most likely meant to be: most of its required keys present. */
function closestObjectVariant(union: TSchema, value: unknown): TSchema | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const objects = ((union.anyOf as TSchema[] | undefined) ?? []).filter((v) => v[Kind] === 'Object');
  let best: TSchema | null = null;
  let bestScore = -1;
  for (const v of objects) {
    const required = (v.required as string[] | undefined) ?? [];
    const score = required.filter((k) => Object.hasOwn(value, k)).length / Math.max(1, required.length);
    if (score > bestScore) {
      best = v;
      bestScore = score;
    }
  }
  return best;
}

function describe(prefix: string, e: ValueError): string {
  const where = prefix + pathText(e.path);
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${where} is missing`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerMinimum:
      return typeof e.schema.minimum === 'number' && e.schema.minimum === 0 && (e.value as number) < 0
        ? `${where} is negative`
        : `${where} is outside the integers a JSON number holds exactly (±2^53)`;
    case ValueErrorType.Union: {
      const variant = closestObjectVariant(e.schema, e.value);
      if (variant !== null) return explain(where, variant, e.value);
      break;
    }
  }
  return `${where} is not ${expected(e.schema)}`;
}

/** The first reason `value` fails `schema`, prefixed with what it is (e.g. the event kind). */
export function explain(prefix: string, schema: TSchema, value: unknown): string {
  const first = Errors(schema, value).First();
  return first === undefined ? `${prefix} is invalid` : describe(prefix, first);
}
