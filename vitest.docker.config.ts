// The docker suite (test/docker): builds the image, runs the lab as containers. Root and a running
// engine needed; it skips with one line saying why otherwise. Run by .ci/run and `npm run test:docker`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/docker/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 1_200_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
