import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { KeyStore } from "../src/index.js"
import { keyStoreContract } from "../src/testing/index.js"

keyStoreContract("memory", async () => {
  const store = await Effect.runPromise(KeyStore.makeMemory)
  return { first: store, second: store, close: async () => {} }
})

describe("model-name globs", () => {
  it("match * and ? and nothing else specially", () => {
    const allowed = KeyStore.globMatcher(["fraud-*", "churn-v?", "a.b"])
    expect(["fraud-detector", "fraud-", "churn-v2", "a.b"].every(allowed)).toBe(true)
    expect(["xfraud-detector", "churn-v10", "axb", "Fraud-x"].some(allowed)).toBe(false)
  })
})
