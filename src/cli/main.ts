#!/usr/bin/env node
// The exetrace command line. Each command lives in its own file exporting
// `register(program)`; add one line to COMMANDS below for a new command.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { TOOL_VERSION } from '../version.js';
import { endQuietlyWhenOutputCloses } from './closed-output.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded on demand: a run loads only its own command's code (start-up
 * to the first traced event counts Node loading modules it never uses: about 0.12 s for record).
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  record: () => import('./record.js'),
  doctor: () => import('./doctor.js'),
  analyze: () => import('./analyze.js'),
  export: () => import('./export.js'),
  live: () => import('./live.js'),
  replay: () => import('./replay.js'),
};

/** The program with every command, or only `only` when it names one (help and errors need them all). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command();
  program
    .name('exetrace')
    .description('Trace where /proc/PID/exe points, why, since when, and when it disagrees with the VMA walk.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .enablePositionalOptions();
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((n) => COMMANDS[n]!()));
  for (const m of modules) m.register(program);
  return program;
}

function invokedDirectly(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return pathToFileURL(realpathSync(argv1)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  endQuietlyWhenOutputCloses();
  // The first argument names the command (options before it are only --help and --version).
  buildProgram(process.argv[2])
    .then((program) => program.parseAsync(process.argv))
    .catch((err: unknown) => {
      process.stderr.write(`exetrace: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
