// `ml-server repair` as an operator runs it: the real CLI process against a data directory. It
// refuses while a server owns the directory; after a crash left a damaged journal (the server
// then refuses to start), it keeps the valid prefix, prints what was kept and dropped, exits 0,
// and the server starts again with the models of the kept prefix.
import { type ChildProcess, spawnSync } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { killHard, launchServer, mainJs } from "./serverProcess.js"

const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-repair-"))
const servers: Array<ChildProcess> = []

afterAll(async () => {
  for (const child of servers) await killHard(child)
  await fs.rm(directory, { recursive: true, force: true })
})

const env = { ...process.env, ML_MODEL_STORAGE_DIR: directory }

/** The server, listening; or the output it exited with. */
const startServer = async () => {
  const server = await launchServer(directory)
  if ("child" in server) servers.push(server.child)
  return server
}

const repair = (...args: Array<string>) => {
  const run = spawnSync(process.execPath, [mainJs, "repair", ...args], { env, encoding: "utf8" })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe("ml-server repair", () => {
  it("refuses while a server runs, then keeps the valid prefix of a damaged journal and reports it", async () => {
    const server = await startServer()
    if (!("url" in server)) throw new Error(`server did not start: ${server.output}`)
    const ids: Array<string> = []
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${server.url}/v1/models`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "repaired", version: `1.0.${i}`, algorithm: "a", framework: "f" })
      })
      expect(response.status).toBe(201)
      ids.push(((await response.json()) as { id: string }).id)
    }

    const refused = repair("--data-dir", directory)
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(/in use by process|stop the server/)

    await killHard(server.child)
    // A damaged line in the middle of the journal (as a disk fault or a bad copy would leave it).
    const journal = path.join(directory, "registry.jsonl")
    const lines = (await fs.readFile(journal, "utf8")).split("\n")
    const middle = Math.floor(lines.length / 2)
    lines[middle] = lines[middle]!.replace("repaired", "REPAIRED")
    await fs.writeFile(journal, lines.join("\n"))
    const refusedStart = await startServer()
    expect(refusedStart).toMatchObject({ exited: 1 })
    expect("output" in refusedStart && refusedStart.output).toMatch(/repair/)

    const repaired = repair(`--data-dir=${directory}`)
    expect(repaired.stderr).toBe("")
    expect(repaired.status).toBe(0)
    expect(repaired.stdout).toMatch(/registry \(.*registry\.jsonl\): kept \d+ records .*dropped \d+ lines/)
    expect(repaired.stdout).toMatch(/Repaired .*: \d+ journals checked, 1 rewritten/)

    const restarted = await startServer()
    if (!("url" in restarted)) throw new Error(`server did not start after repair: ${restarted.output}`)
    const kept = await Promise.all(ids.map(async (id) => (await fetch(`${restarted.url}/v1/models/${id}`)).status))
    // The valid prefix: some models from the first, none after the first missing one.
    const firstMissing = kept.indexOf(404)
    expect(firstMissing).toBeGreaterThan(0)
    expect(kept.slice(firstMissing).every((status) => status === 404)).toBe(true)
    await killHard(restarted.child)
  }, 60_000)

  it("names the usage on bad arguments", () => {
    const bad = repair("--data-directory", directory)
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/Usage: ml-server repair \[--data-dir DIR\]/)
  })
})
