/**
 * The core computes the same thing in every runtime it promises: seeded-outputs.mjs (assignment
 * of 10,000 users, KS exact and asymptotic, PSI, Welch, a trained learner's predictions) runs in
 * Node (here), Deno, Bun and workerd. Assignments must be identical. Floating-point results may
 * differ in their last bits only: each engine brings its own Math.exp/log (Node 20's V8 and
 * newer V8s already differ in the last ulp of Math.exp, and 2,000 learning steps carry such a
 * difference into the weights), so they are compared to 1e-13 relative.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { seededOutputs } from "../seeded-outputs.mjs"
import { bundleWorker, runWorkerdTests } from "../workerd.mjs"

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = (name: string) => path.join(here, "node_modules", ".bin", name)
const main = path.join(here, "seeded-outputs-main.mjs")

const lastJsonLine = (stdout: string) => {
  const line = stdout.split("\n").find((l) => l.startsWith("{"))
  if (line === undefined) throw new Error(`no JSON in the output:\n${stdout}`)
  return JSON.parse(line) as unknown
}

const run = (command: string, args: ReadonlyArray<string>) => {
  const result = spawnSync(command, args, { cwd: here, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}):\n${result.stderr}`)
  return lastJsonLine(result.stdout)
}

const inWorkerd = async () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-seeded-workerd-"))
  try {
    const entry = path.join(directory, "entry.mjs")
    fs.writeFileSync(
      entry,
      `import { seededOutputs } from ${JSON.stringify(path.join(here, "seeded-outputs.mjs"))}\n` +
        `export default { async test() { console.log(JSON.stringify(seededOutputs())) } }\n`
    )
    await bundleWorker(entry, directory, "seeded")
    const result = await runWorkerdTests(directory, ["seeded"], "pipe")
    if (result.status !== 0) throw new Error(`workerd failed (${result.status}):\n${result.stderr}`)
    return lastJsonLine(result.stdout)
  } finally {
    fs.rmSync(directory, { recursive: true, force: true })
  }
}

/** Equal structure, equal strings, numbers within 1e-13 relative of the reference. */
const expectSameOutputs = (actual: unknown, reference: unknown, at = "outputs"): void => {
  if (typeof reference === "number" && typeof actual === "number") {
    const tolerance = 1e-13 * Math.max(Math.abs(reference), Number.MIN_VALUE)
    expect(Math.abs(actual - reference), `${at}: ${actual} vs ${reference}`).toBeLessThanOrEqual(tolerance)
  } else if (reference !== null && typeof reference === "object") {
    expect(Object.keys(actual as object), at).toEqual(Object.keys(reference))
    for (const [key, value] of Object.entries(reference)) {
      expectSameOutputs((actual as Record<string, unknown>)[key], value, `${at}.${key}`)
    }
  } else {
    expect(actual, at).toEqual(reference)
  }
}

describe("seeded outputs across runtimes", () => {
  const reference = JSON.parse(JSON.stringify(seededOutputs())) as ReturnType<typeof seededOutputs>

  it("has something to compare: 10,000 assignments over all variants and the excluded", () => {
    const counts = new Map<string, number>()
    for (const variant of reference.assignments.split(",")) counts.set(variant, (counts.get(variant) ?? 0) + 1)
    expect([...counts.keys()].sort()).toEqual(["-1", "0", "1", "2"])
    expect(reference.predictions).toHaveLength(50)
  })

  it.each(
    [
      ["Deno", () => run(bin("deno"), ["run", "--allow-read", main])],
      ["Bun", () => run(bin("bun"), [main])],
      ["workerd", inWorkerd]
    ] as const
  )("%s computes what Node computes", async (_runtime, outputs) => {
    const actual = (await outputs()) as typeof reference
    expect(actual.assignments).toBe(reference.assignments)
    expectSameOutputs(actual, reference)
  }, 120_000)
})
