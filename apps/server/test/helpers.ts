import { PrometheusMetrics } from "@org/ml-adapter-prometheus"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { loadConfig, makeRuntime, makeServerApp } from "../src/index.js"

/** The app over real filesystem storage in a fresh temp directory, driven through app.request. */
export const makeTestApp = async (env: Record<string, string> = {}) => {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-test-"))
  const config = loadConfig({ ML_MODEL_STORAGE_DIR: directory, ...env })
  const metricsRegistry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, metricsRegistry)
  const logs: Array<string> = []
  // Every JSON answer is checked against its endpoint's success schema: a mismatch is a 500.
  const app = makeServerApp(config, runtime, metricsRegistry, (line) => logs.push(line), { validateResponses: true })
  /**
   * Every data file under the data directory with its size: "storage unchanged" means this is
   * equal. Journal manifests are left out: a journal rewrites its manifest on a timer (through a
   * `.tmp` file renamed into place) to catch up with earlier writes, which changes no data.
   */
  const snapshot = async () => {
    const entries = await fs.readdir(directory, { recursive: true, withFileTypes: true })
    const isData = (name: string) =>
      name !== "registry.lock" && !name.endsWith(".manifest.json") && !name.endsWith(".manifest.json.tmp")
    const files = await Promise.all(
      entries.filter((e) => e.isFile() && isData(e.name)).map(async (e) => {
        const file = path.join(e.parentPath, e.name)
        return `${path.relative(directory, file)}:${(await fs.stat(file)).size}`
      })
    )
    return files.sort()
  }
  const close = async () => {
    await runtime.dispose()
    await fs.rm(directory, { recursive: true, force: true })
  }
  return { app, directory, logs, snapshot, close }
}

export const json = (body: unknown, init: RequestInit = {}): RequestInit => ({
  method: "POST",
  ...init,
  headers: { "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) },
  body: typeof body === "string" ? body : JSON.stringify(body)
})

export const metadata = (overrides: Record<string, unknown> = {}) => ({
  name: "fraud-detector",
  version: "1.0.0",
  algorithm: "gradient_boosting",
  framework: "xgboost",
  metrics: { auc: 0.93 },
  parameters: { max_depth: 6, eta: 0.1 },
  tags: ["payments"],
  ...overrides
})
