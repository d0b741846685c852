// Option parsers shared by the commands: one definition of what a valid value is.
import { InvalidArgumentError } from 'commander';

/** A thread group id as the kernel allows it (1 … PID_MAX_LIMIT), in plain decimal. */
export function parsePid(value: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(value) || Number(value) > 4194304) {
    throw new InvalidArgumentError('a PID is a positive decimal integer no larger than 4194304');
  }
  return Number(value);
}

/** nats://… or tls://…: a fleet stream rather than a trace file. */
export const isNatsAddress = (value: string): boolean => /^(nats|tls):\/\//.test(value);

/** Collects the values of a repeatable file option (--exceptions). */
export function collectFile(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
