import { defineConfig } from "vitest/config"

// One server process per suite; suites one at a time suit a 2-core machine.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false }
})
