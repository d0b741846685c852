// The FIFO bpftrace writes its stdout into: everything a child writes arrives, in order, in
// whole lines once cut, and the read ends when the child exits (also when it never wrote).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { openPolledFifo } from '../../src/trace/polled-fifo.js';

async function runInto(script: string): Promise<string> {
  const fifo = openPolledFifo();
  expect(fifo).not.toBeNull();
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', fifo!.writeFd, 'inherit'] });
  fifo!.closeWriteEnd();
  let text = '';
  const read = fifo!.read((chunk) => (text += chunk));
  await once(child, 'exit');
  await read;
  return text;
}

describe('polled FIFO', () => {
  it('delivers what the child wrote, across pauses, and ends when it exits', async () => {
    expect(await runInto('echo one; sleep 0.05; echo two; printf three')).toBe('one\ntwo\nthree');
  });

  it('holds more than the FIFO itself can (the writer blocks, nothing is dropped)', async () => {
    // 3 MB: far past the 64 KiB FIFO and the 1 MiB read size.
    const text = await runInto(
      'i=0; while [ $i -lt 30000 ]; do echo "line $i 0123456789012345678901234567890123456789012345678901234567890123456789012345"; i=$((i+1)); done',
    );
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(30000);
    expect(lines.every((l, i) => l.startsWith(`line ${i} `))).toBe(true);
  });

  it('ends at once for a child that exits without writing', async () => {
    expect(await runInto('exit 3')).toBe('');
  });

  it('keeps bytes as latin1, one character per byte', async () => {
    expect(await runInto("printf '\\377\\001x'")).toBe('\u00ff\u0001x');
  });
});
