import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { buildProbeInvocation, NO_COMM_SENTINEL, packageRoot, validateCommFilter, validatePidFilter } from '../../src/trace/probe-program.js';

const base = { flavor: 'tracepoint' as const, pid: null, comm: null, selfPid: 4242, mountOffset: 32, commOffset: 1752, siblingOffset: 1312 };

describe('buildProbeInvocation', () => {
  it('passes filters as positional parameters after the script', () => {
    const inv = buildProbeInvocation({ ...base, pid: 123, comm: 'sleep' });
    expect(inv.args).toEqual(['-f', 'json', inv.scriptPath, '123', 'sleep', '4242', '32', '1752', '1312']);
    expect(existsSync(inv.scriptPath)).toBe(true);
    expect(inv.scriptPath.startsWith(packageRoot())).toBe(true);
  });

  it('uses 0 and a sentinel longer than any comm when unfiltered', () => {
    const inv = buildProbeInvocation(base);
    expect(inv.args.slice(3)).toEqual(['0', NO_COMM_SENTINEL, '4242', '32', '1752', '1312']);
    expect(Buffer.byteLength(NO_COMM_SENTINEL)).toBe(16);
  });

  it('rejects injection attempts and malformed filters', () => {
    expect(() => buildProbeInvocation({ ...base, comm: 'x"; } BEGIN { system("touch /tmp/pwned") } //' })).toThrow(/15 bytes/);
    expect(() => validateCommFilter('')).toThrow(/empty/);
    expect(() => validateCommFilter('a\nb')).toThrow(/control/);
    expect(() => validateCommFilter('a\x00b')).toThrow(/control/);
    expect(() => validateCommFilter('\x1b[2J')).toThrow(/control/);
    expect(() => validateCommFilter('ééééééééé')).toThrow(/18 bytes/);
    expect(validateCommFilter('we"ir\\d name')).toBe('we"ir\\d name');
    for (const pid of [0, -1, 1.5, Number.NaN, 2 ** 40]) expect(() => validatePidFilter(pid)).toThrow(/not a pid/);
    expect(() => buildProbeInvocation({ ...base, mountOffset: -1 })).toThrow(/offset/);
  });

  it('finds the package root from a module path in dist/src too', () => {
    const root = packageRoot();
    expect(packageRoot(`${root}/dist/src/trace/probe-program.js`)).toBe(root);
  });
});
