/** The fs drift store decodes what it reads back: a damaged record stops start-up naming the file and line. */
import { DriftStore } from "@org/ml-core"
import { sampleMonitor } from "@org/ml-core/testing"
import { Effect, Exit } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FsDriftStore } from "../src/index.js"

const root = await fs.mkdtemp(path.join(os.tmpdir(), "ml-fs-drift-records-"))
afterAll(() => fs.rm(root, { recursive: true, force: true }))

/** Opens the store on a directory holding `files`; the failure message, or undefined when it opened. */
const openWith = async (name: string, files: Record<string, string>) => {
  const directory = path.join(root, name)
  await fs.mkdir(directory, { recursive: true })
  for (const [file, text] of Object.entries(files)) await fs.writeFile(path.join(directory, file), text)
  const exit = await Effect.runPromiseExit(
    Effect.provide(DriftStore.DriftStore.use((store) => store.listMonitors()), FsDriftStore.layer({ directory }))
  )
  return Exit.isFailure(exit) ? String(exit.cause) : undefined
}

describe("fs drift store reading back", () => {
  const monitor = sampleMonitor()
  const good = JSON.stringify({ op: "monitor", monitor })

  it("opens on records it wrote", async () => {
    expect(await openWith("good", { "drift.jsonl": `${good}\n` })).toBeUndefined()
  })

  it("names the journal line of an entry that is JSON but not a drift record", async () => {
    const foreign = JSON.stringify({ op: "monitor", monitor: { ...monitor, settings: { windowSize: "big" } } })
    const failure = await openWith("foreign", { "drift.jsonl": `${good}\n${foreign}\n` })
    expect(failure).toMatch(/drift\.jsonl:2/)
  })

  it("names the saved windows file when a window holds something other than values", async () => {
    const windows = JSON.stringify({ [monitor.id]: { amount: [1, { nested: true }] } })
    const failure = await openWith("windows", { "drift.jsonl": `${good}\n`, "drift-windows.json": windows })
    expect(failure).toMatch(/drift-windows\.json/)
  })
})
