// The portability rules must actually fire: lint small sources with the config packages/core uses.
import { ESLint } from "eslint"
import { describe, expect, it } from "vitest"
import portable from "../portable.js"

const lint = async (code) => {
  const eslint = new ESLint({ overrideConfigFile: true, overrideConfig: portable, cwd: import.meta.dirname })
  const [result] = await eslint.lintText(code, { filePath: "src/example.ts" })
  return result.messages.map((m) => m.ruleId)
}

describe("portable lint config (packages/core)", () => {
  it.each([
    [
      "a node: import",
      "import { readFile } from \"node:fs/promises\"\nexport const f = readFile\n",
      "no-restricted-imports"
    ],
    ["a bare Node built-in", "import * as path from \"path\"\nexport const p = path\n", "no-restricted-imports"],
    ["a driver", "import { Redis } from \"ioredis\"\nexport const r = Redis\n", "no-restricted-imports"],
    ["prom-client", "import * as prom from \"prom-client\"\nexport const p = prom\n", "no-restricted-imports"],
    ["process", "export const env = process.env.HOME\n", "no-restricted-globals"],
    ["Buffer", "export const b = Buffer.from(\"x\")\n", "no-restricted-globals"]
  ])("rejects %s", async (_label, code, rule) => {
    expect(await lint(code)).toContain(rule)
  })

  it("accepts Web APIs and effect", async () => {
    expect(
      await lint(
        "import { Effect } from \"effect\"\n"
          + "export const x = Effect.succeed(new TextEncoder().encode(crypto.randomUUID()))\n"
      )
    ).toEqual([])
  })
})
