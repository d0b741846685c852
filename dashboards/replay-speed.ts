// `--speed` of replay, apart from the driver so that parsing the command line loads no reader.
export type ReplaySpeed = number | 'max';

/** Parse `--speed`: a positive number (× real time) or "max". */
export function parseSpeed(text: string): ReplaySpeed {
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--speed must be a positive number or "max", got "${text}"`);
  return n;
}
