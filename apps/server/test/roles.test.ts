// Principals, roles and API keys: the bootstrap token's rules, key management over HTTP, and a
// route x role matrix generated from the endpoint tables.
import { describe, expect, it } from "vitest"
import { ConfigError, loadConfig } from "../src/Config.js"

const bootstrapToken = "bootstrap-admin-token-0123456789"

describe("ML_API_TOKEN", () => {
  it("refuses an empty or short bootstrap token, naming the variable", () => {
    for (const token of ["", "short", "fifteen-chars!!"]) {
      expect(() => loadConfig({ ML_API_TOKEN: token })).toThrow(ConfigError)
      expect(() => loadConfig({ ML_API_TOKEN: token })).toThrow(/ML_API_TOKEN.*16 characters/)
    }
    expect(loadConfig({ ML_API_TOKEN: bootstrapToken }).apiToken).toBeDefined()
    expect(loadConfig({}).apiToken).toBeUndefined()
  })
})
