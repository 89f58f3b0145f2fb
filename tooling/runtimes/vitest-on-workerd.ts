/**
 * Collects vitest-style suites for a worker bundle (see run-in-workerd.mjs): workerd has no test
 * runner of ours, so each `it` is kept in `collectedTests` and the worker's `test` handler runs
 * them one after another. Describe bodies run in that handler too (`collectSuites`).
 */
import { makeVitestApi, type TestBody } from "./vitest-api.ts"

export const collectedTests: Array<{ readonly name: string; readonly body: TestBody }> = []

const api = makeVitestApi((name, body) => {
  collectedTests.push({ name, body })
}, { deferSuites: true })
export const { afterAll, afterAllHooks, collectSuites, describe, expect, it, test } = api
