// The shape of an exception rule (parsed and matched in exceptions.ts). Apart so that the
// model's options (state.ts) can name it without an import cycle.
import type { FindingClass } from './finding-classes.js';

export const EXCEPTION_FIELDS = [
  'exe.path',
  'exe.id',
  'comm',
  'argv0',
  'filename',
  'parent.exe.path',
  'parent.exe.id',
  'prev.exe.path',
  'prev.exe.id',
] as const;
export type ExceptionField = (typeof EXCEPTION_FIELDS)[number];

export const EXCEPTION_COMPS = ['=', '!=', 'startswith', 'endswith', 'contains'] as const;
export type ExceptionComp = (typeof EXCEPTION_COMPS)[number];

export interface ExceptionRule {
  name: string;
  classes: readonly FindingClass[];
  fields: readonly ExceptionField[];
  comps: readonly ExceptionComp[];
  values: readonly (readonly string[])[];
}
