// The rules of the Chrome trace-event format (what the Perfetto UI and chrome://tracing read)
// that exetrace's export relies on, as a checker that lists every violation.
import type { ChromeTraceEvent } from '../../src/report/perfetto.js';

/** Every rule of the trace-event format this exporter relies on; returns the violations. */
export function formatViolations(events: ChromeTraceEvent[]): string[] {
  const bad: string[] = [];
  const stacks = new Map<string, ChromeTraceEvent[]>();
  const lastTs = new Map<string, number>();
  const named = { process: new Set<number>(), thread: new Set<string>() };
  events.forEach((e, i) => {
    const at = `event ${i} ${JSON.stringify(e).slice(0, 120)}`;
    if (!['B', 'E', 'i', 'M'].includes(e.ph)) bad.push(`${at}: phase ${e.ph}`);
    if (!Number.isSafeInteger(e.pid) || e.pid < 0) bad.push(`${at}: no pid`);
    if (!Number.isSafeInteger(e.tid) || e.tid < 0) bad.push(`${at}: no tid`);
    const track = `${e.pid}/${e.tid}`;
    if (e.ph === 'M') {
      if (e.name === 'process_name') named.process.add(e.pid);
      if (e.name === 'thread_name') named.thread.add(track);
      if (typeof (e.args as { name?: unknown; labels?: unknown } | undefined)?.[e.name === 'process_labels' ? 'labels' : 'name'] !== 'string')
        bad.push(`${at}: metadata without its value`);
      return;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) bad.push(`${at}: ts`);
    if (e.ph !== 'E' && (typeof e.name !== 'string' || e.name.length === 0)) bad.push(`${at}: no name`);
    if (e.ph === 'i' && e.s !== 't' && e.s !== 'g') bad.push(`${at}: instant without scope`);
    // B/E must be in ts order on their track (the format's rule for duration events; instants may come in any order).
    if (e.ph !== 'i') {
      if ((lastTs.get(track) ?? -Infinity) > e.ts!) bad.push(`${at}: ts goes back on its track`);
      lastTs.set(track, e.ts!);
    }
    const stack = stacks.get(track) ?? [];
    stacks.set(track, stack);
    if (e.ph === 'B') {
      if (!named.thread.has(track) || !named.process.has(e.pid)) bad.push(`${at}: span on an unnamed track`);
      stack.push(e);
    } else if (e.ph === 'E') {
      const open = stack.pop();
      if (open === undefined) bad.push(`${at}: E without B`);
      else if (open.cat !== e.cat) bad.push(`${at}: E closes ${open.cat}, not its own ${e.cat} (not nested)`);
    }
  });
  for (const [track, stack] of stacks) if (stack.length > 0) bad.push(`track ${track}: ${stack.length} spans never closed`);
  return bad;
}
