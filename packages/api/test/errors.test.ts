import { describe, expect, it } from "vitest"
import { apiErrorTags, problemKinds } from "../src/index.js"

describe("error table", () => {
  it("gives every error tag a 4xx or 5xx status and a title", () => {
    for (const tag of apiErrorTags) {
      const kind = problemKinds[tag]
      expect(kind.status >= 400 && kind.status < 600, tag).toBe(true)
      expect(kind.title.length, tag).toBeGreaterThan(0)
    }
  })
})
