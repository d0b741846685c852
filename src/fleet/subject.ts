// Where fleet traces live in NATS: one JetStream stream, one subject per host, and the message
// headers that let a consumer put each recording's batches back in order exactly once.

/** The JetStream stream that holds every host's traces. */
export const STREAM_NAME = 'EXETRACE';
/** Every host's subject (the stream's subject filter). */
export const ALL_HOSTS_SUBJECT = 'exetrace.*.trace';
/** Which recording a batch belongs to (a random id per recording). */
export const RECORDING_HEADER = 'Exetrace-Recording';
/** The batch's sequence number within its recording, from 1: consumers drop repeats. */
export const BATCH_HEADER = 'Exetrace-Batch';

/**
 * A hostname as one NATS subject token. A token may not hold '.', '*', '>' or whitespace, and a
 * hostname is hostile (`--hostname` takes anything), so every byte outside [A-Za-z0-9-] becomes
 * _XX (hex). Injective: two hostnames never share a subject.
 */
export function hostToken(hostname: string): string {
  if (hostname === '') return '_';
  let out = '';
  for (const byte of Buffer.from(hostname, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export const hostSubject = (hostname: string): string => `exetrace.${hostToken(hostname)}.trace`;

/** The hostname of a subject made by hostSubject, or null for any other subject. */
export function hostOfSubject(subject: string): string | null {
  const m = /^exetrace\.([A-Za-z0-9_-]+)\.trace$/.exec(subject);
  if (m === null) return null;
  const token = m[1]!;
  if (token === '_') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}
