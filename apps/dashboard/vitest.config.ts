import { defineConfig } from "vitest/config"

// Each browser suite starts its own server process and Chromium; one at a time suits a 2-core machine.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false }
})
