import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx', 'test/live/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // Live tests share one kernel and one tracefs; running them one file at a time keeps bpftrace sessions apart.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
