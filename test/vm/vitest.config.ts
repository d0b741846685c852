import { defineConfig } from 'vitest/config';

// The VM harness: slow (qemu TCG), so its own config, run by `npm run test:vm`, not by `npm test`.
export default defineConfig({
  test: {
    include: ['test/vm/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60 * 60_000,
    hookTimeout: 20 * 60_000,
  },
});
