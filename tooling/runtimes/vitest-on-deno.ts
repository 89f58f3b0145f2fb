/**
 * Runs vitest-style suites on Deno's own test runner, so the core's tests execute unchanged in
 * Deno: each `it` becomes a `Deno.test` named by its describe path.
 */
import { makeVitestApi } from "./vitest-api.ts"

declare const Deno: {
  test: (options: { name: string; fn: () => Promise<void>; sanitizeOps?: boolean; sanitizeResources?: boolean }) => void
}

export const { afterAll, describe, expect, it, test } = makeVitestApi((name, body) =>
  Deno.test({
    name,
    fn: async () => {
      await body()
    },
    sanitizeOps: false,
    sanitizeResources: false
  })
)
