/**
 * The SDK's client works the same in every runtime it promises: sdk-scenario.mjs (registry with a
 * verified download and lifecycle errors, server and local assignment, metrics and results, drift
 * rows and a check, typed errors) runs against one real server from Node (here), Deno, Bun and
 * workerd, and every runtime's summary equals Node's.
 */
import { loadConfig, type RunningServer, startServer } from "@org/ml-server"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { sdkScenario } from "../sdk-scenario.mjs"
import { bundleWorker, runWorkerdTests } from "../workerd.mjs"

const here = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const bin = (name: string) => path.join(here, "node_modules", ".bin", name)
const main = path.join(here, "sdk-scenario-main.mjs")
const directories: Array<string> = []
let server: RunningServer

beforeAll(async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "ml-sdk-runtimes-"))
  directories.push(data)
  server = await startServer(
    loadConfig({ ML_MODEL_STORAGE_DIR: data, ML_PORT: "0", ML_HOST: "127.0.0.1", ML_AB_MIN_SAMPLES: "20" }),
    () => undefined
  )
})
afterAll(async () => {
  await server?.close()
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true })
})

const jsonLine = (stdout: string) => {
  const line = stdout.split("\n").find((l) => l.startsWith("{"))
  if (line === undefined) throw new Error(`no JSON in the output:\n${stdout}`)
  return JSON.parse(line) as unknown
}

// Asynchronously: the server answering them runs on this process's event loop.
const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<unknown>((resolve, reject) =>
    execFile(
      command,
      [...args],
      { cwd: here, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
      (error, out, err) => error ? reject(new Error(`${command}: ${error.message}\n${err}`)) : resolve(jsonLine(out))
    )
  )

const inWorkerd = async (prefix: string) => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "ml-sdk-workerd-"))
  directories.push(directory)
  const entry = path.join(directory, "entry.mjs")
  fs.writeFileSync(
    entry,
    `import { sdkScenario } from ${JSON.stringify(path.join(here, "sdk-scenario.mjs"))}\n` +
      `export default { async test() { console.log(JSON.stringify(await sdkScenario(${JSON.stringify(server.url)}, ${
        JSON.stringify(prefix)
      }))) } }\n`
  )
  await bundleWorker(entry, directory, "scenario")
  const result = await runWorkerdTests(directory, ["scenario"], "pipe")
  if (result.status !== 0) throw new Error(`workerd failed (${result.status}):\n${result.stderr}`)
  return jsonLine(result.stdout)
}

describe("the SDK's client across runtimes", () => {
  let reference: Awaited<ReturnType<typeof sdkScenario>>
  beforeAll(async () => {
    reference = await sdkScenario(server.url, "node")
  })

  it("does what a user expects in Node", () => {
    expect(reference).toEqual({
      sameBytes: true,
      skipToProduction: "InvalidTransitionError 409",
      productionVersion: "1.1.0",
      bothVariantsServed: true,
      localEqualsServer: true,
      metrics: 300,
      // 300 first assignments on the server, 300 local exposures sent by the evaluator.
      exposures: 600,
      badMetric: "ValidationError 400",
      drift: ["x critical 300"],
      missing: "MonitorNotFoundError 404"
    })
  })

  it.each(
    [
      ["Deno", (prefix: string) => run(bin("deno"), ["run", "--allow-net", main, server.url, prefix])],
      ["Bun", (prefix: string) => run(bin("bun"), [main, server.url, prefix])],
      ["workerd", inWorkerd]
    ] as const
  )("%s gives the same summary as Node", async (runtime, scenario) => {
    expect(await scenario(runtime.toLowerCase())).toEqual(reference)
  }, 120_000)
})
