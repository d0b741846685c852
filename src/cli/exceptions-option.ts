// --exceptions FILE (repeatable) and --no-default-exceptions: which exception rules label
// findings as expected. The shipped list (config/default-exceptions.json) applies unless
// turned off; files given add to it. Documented in docs/exceptions.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExceptions, type ExceptionRule } from '../model/index.js';
import { packageRoot } from '../trace/probe-program.js';

export const DEFAULT_EXCEPTIONS_FILE = join(packageRoot(), 'config', 'default-exceptions.json');

export interface ExceptionsCliOptions {
  exceptions?: string[];
  /** commander's negation of --no-default-exceptions. */
  defaultExceptions?: boolean;
}

/** The rules to apply; throws ExceptionsError (from parseExceptions) or the fs error, naming the file. */
export function loadExceptions(opts: ExceptionsCliOptions): ExceptionRule[] {
  const files = [...(opts.defaultExceptions === false ? [] : [DEFAULT_EXCEPTIONS_FILE]), ...(opts.exceptions ?? [])];
  const rules: ExceptionRule[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${file}: cannot read the exceptions file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
    for (const r of parseExceptions(text, file)) {
      if (rules.some((x) => x.name === r.name)) throw new Error(`${file}: exception "${r.name}" is already defined by an earlier file`);
      rules.push(r);
    }
  }
  return rules;
}
