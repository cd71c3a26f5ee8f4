import { defineConfig } from 'vitest/config';

// Test files run one after another: most start real mpirun jobs or network namespaces, and on a
// small machine parallel files would disturb each other's timing assertions (RTT, bandwidth).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
