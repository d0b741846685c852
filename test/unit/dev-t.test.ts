import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { devString, kernelDevToStatDev, makedev } from '../../src/kernel/dev-t.js';

describe('device numbers', () => {
  it('matches glibc makedev, including minors and majors past 32-bit bit operations', () => {
    expect(makedev(254, 0)).toBe(65024);
    expect(makedev(0, 41)).toBe(41);
    expect(makedev(8, 0x12345)).toBe(0x12300000 + 0x800 + 0x45);
    expect(makedev(4096, 0)).toBe(2 ** 32);
  });

  it('turns the kernel s_dev of / into what stat() says', () => {
    const st = statSync('/');
    const major = Math.floor(st.dev / 256) & 0xfff;
    const minor = (st.dev & 0xff) | (Math.floor(st.dev / 4096) & 0xfff00);
    expect(kernelDevToStatDev(major * 2 ** 20 + minor)).toBe(st.dev);
  });

  it('prints st_dev as /proc/PID/maps does (major:minor in hex), the inverse of makedev', () => {
    expect(devString(makedev(254, 0))).toBe('fe:00');
    expect(devString(makedev(8, 0x12345))).toBe('08:12345');
    expect(devString(makedev(0xfff, 0xfffff))).toBe('fff:fffff');
  });
});
