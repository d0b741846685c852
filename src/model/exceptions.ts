// Exceptions, modelled on Falco's: a rule names the classes it covers and a list of fields with
// one comparison each; `values` holds tuples, and a finding matches when every field of any one
// tuple compares true. A match labels the finding expected (it is still reported and counted).
// Parsing is pure (text in, rules or an error out); reading the file is the CLI's job.
import { EXCEPTION_COMPS, EXCEPTION_FIELDS, type ExceptionComp, type ExceptionField, type ExceptionRule } from './exception-rule.js';
import { FINDING_CLASSES, type FindingClass } from './finding-classes.js';
import type { FileId } from './state.js';

export type { ExceptionRule } from './exception-rule.js';

/** What a rule is matched against: the finding's process at the time it was raised. */
export interface ExceptionSubject {
  class: FindingClass;
  exe: FileId | null;
  comm: string;
  argv0: string | null;
  filename: string | null;
  parentExe: FileId | null;
  prevExe: FileId | null;
}

// A file's path as matched: null (no match possible) when unknown or cut at a bound, so a
// truncated path never equals another one.
const pathOf = (f: FileId | null): string | null => (f === null || f.pathTruncated ? null : f.path);
const idOf = (f: FileId | null): string | null => (f === null ? null : `${f.dev}:${f.ino}`);

function fieldValue(s: ExceptionSubject, field: ExceptionField): string | null {
  switch (field) {
    case 'exe.path':
      return pathOf(s.exe);
    case 'exe.id':
      return idOf(s.exe);
    case 'comm':
      return s.comm;
    case 'argv0':
      return s.argv0;
    case 'filename':
      return s.filename;
    case 'parent.exe.path':
      return pathOf(s.parentExe);
    case 'parent.exe.id':
      return idOf(s.parentExe);
    case 'prev.exe.path':
      return pathOf(s.prevExe);
    case 'prev.exe.id':
      return idOf(s.prevExe);
  }
}

function compare(actual: string | null, comp: ExceptionComp, expected: string): boolean {
  // An unknown value matches nothing, not even "!=": an exception must be proved, not assumed.
  if (actual === null) return false;
  switch (comp) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case 'startswith':
      return actual.startsWith(expected);
    case 'endswith':
      return actual.endsWith(expected);
    case 'contains':
      return actual.includes(expected);
  }
}

/** The name of the first rule that covers this subject, or null. */
export function matchException(rules: readonly ExceptionRule[], s: ExceptionSubject): string | null {
  for (const r of rules) {
    if (!r.classes.includes(s.class)) continue;
    const values = r.fields.map((f) => fieldValue(s, f));
    if (r.values.some((tuple) => tuple.every((v, i) => compare(values[i]!, r.comps[i]!, v)))) return r.name;
  }
  return null;
}

export class ExceptionsError extends Error {}

const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Parse an exceptions file: `{"exceptions": [{name, classes, fields, comps, values}]}`. Every
 * problem names the source, the rule and the cause. `comps` may be omitted (all "=").
 */
export function parseExceptions(text: string, source: string): ExceptionRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ExceptionsError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  const list = (doc as { exceptions?: unknown } | null)?.exceptions;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(list)) throw new ExceptionsError(`${source}: expected an object with an "exceptions" array`);
  const seen = new Set<string>();
  return list.map((raw: unknown, i): ExceptionRule => {
    const where = `${source}: exceptions[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new ExceptionsError(`${where} is not an object`);
    const r = raw as Record<string, unknown>;
    if (typeof r.name !== 'string' || r.name === '') throw new ExceptionsError(`${where}.name must be a non-empty string`);
    const at = `${where} (${r.name})`;
    if (seen.has(r.name)) throw new ExceptionsError(`${at}: the name is used twice`);
    seen.add(r.name);
    if (!isStrArray(r.classes) || r.classes.length === 0) throw new ExceptionsError(`${at}.classes must be a non-empty array of class names`);
    for (const c of r.classes) {
      if (!(FINDING_CLASSES as readonly string[]).includes(c))
        throw new ExceptionsError(`${at}.classes: unknown class "${c}" (known: ${FINDING_CLASSES.join(', ')})`);
    }
    if (!isStrArray(r.fields) || r.fields.length === 0) throw new ExceptionsError(`${at}.fields must be a non-empty array of field names`);
    for (const f of r.fields) {
      if (!(EXCEPTION_FIELDS as readonly string[]).includes(f))
        throw new ExceptionsError(`${at}.fields: unknown field "${f}" (known: ${EXCEPTION_FIELDS.join(', ')})`);
    }
    const fields = r.fields;
    const comps = r.comps === undefined ? fields.map(() => '=') : r.comps;
    if (!isStrArray(comps) || comps.length !== fields.length) throw new ExceptionsError(`${at}.comps must hold one comparison per field`);
    for (const c of comps) {
      if (!(EXCEPTION_COMPS as readonly string[]).includes(c))
        throw new ExceptionsError(`${at}.comps: unknown comparison "${c}" (known: ${EXCEPTION_COMPS.join(', ')})`);
    }
    if (!Array.isArray(r.values) || r.values.length === 0) throw new ExceptionsError(`${at}.values must be a non-empty array of tuples`);
    r.values.forEach((t: unknown, j) => {
      if (!isStrArray(t) || t.length !== fields.length)
        throw new ExceptionsError(`${at}.values[${j}] must be an array of ${fields.length} strings, one per field`);
    });
    return {
      name: r.name,
      classes: r.classes as FindingClass[],
      fields: fields as ExceptionField[],
      comps: comps as ExceptionComp[],
      values: r.values as string[][],
    };
  });
}
