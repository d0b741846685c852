#!/usr/bin/env node
// The exetrace command line. Each command lives in its own file exporting
// `register(program)`; add one import and one call below for a new command.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { TOOL_VERSION } from '../version.js';
import { register as registerAnalyze } from './analyze.js';
import { endQuietlyWhenOutputCloses } from './closed-output.js';
import { register as registerDoctor } from './doctor.js';
import { register as registerExport } from './export.js';
import { register as registerRecord } from './record.js';
import { register as registerLive } from './live.js';
import { register as registerReplay } from './replay.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('exetrace')
    .description('Trace where /proc/PID/exe points, why, since when, and when it disagrees with the VMA walk.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .enablePositionalOptions();
  registerRecord(program);
  registerDoctor(program);
  registerAnalyze(program);
  registerExport(program);
  registerLive(program);
  registerReplay(program);
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
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`exetrace: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
