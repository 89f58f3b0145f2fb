/**
 * End to end, as README's quick start has a user do it: the real server process on the embedded
 * default (files on disk), driven through the SDK; then a graceful shutdown with a request in
 * flight, and a restart that finds everything again.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { createClient } from "../src/index.js"

const serverMain = fileURLToPath(new URL("../../server/dist/main.js", import.meta.url))
const children: Array<ChildProcess> = []
afterAll(() => children.forEach((child) => child.kill("SIGKILL")))

const startProcess = async (env: Record<string, string>) => {
  const child = spawn(process.execPath, [serverMain], {
    env: { PATH: process.env.PATH ?? "", ML_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  children.push(child)
  let output = ""
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 15_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    void exited.then((code) => reject(new Error(`server exited with ${code}: ${output}`)))
  })
  return { child, url, exited, output: () => output }
}

describe("quick start, end to end", () => {
  it("registers, promotes, serves and survives a graceful restart", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-quickstart-"))
    const first = await startProcess({ ML_MODEL_STORAGE_DIR: dataDir })
    expect(first.url.startsWith("http://127.0.0.1:")).toBe(true)
    const sdk = createClient({ baseUrl: first.url, actor: "quickstart" })
    expect(await sdk.health()).toEqual({ status: "ok" })
    expect(await sdk.ready()).toEqual({ status: "ready" })

    const artifact = new TextEncoder().encode(JSON.stringify({ weights: [0.1, -0.4, 2.5], bias: 0.3 }))
    const model = await sdk.registry.registerModel(
      {
        name: "churn",
        version: "1.0.0",
        algorithm: "logistic_regression",
        framework: "sklearn",
        metrics: { auc: 0.91 }
      },
      artifact
    )
    for (const status of ["testing", "staging", "production"] as const) {
      await sdk.registry.promoteModel(model.id, status, { reason: "quick start" })
    }
    expect((await sdk.registry.getProduction("churn")).id).toBe(model.id)
    const metrics = await (await fetch(`${first.url}/metrics`)).text()
    expect(metrics).toContain("ml_models_total{status=\"production\"} 1")

    // A slow upload is in flight when SIGTERM arrives: it must complete before the process exits.
    const second = await sdk.registry.registerModel({
      name: "churn",
      version: "1.1.0",
      algorithm: "logistic_regression",
      framework: "sklearn"
    })
    const chunk = new Uint8Array(64 * 1024).fill(7)
    let sent = 0
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 3) first.child.kill("SIGTERM") // the request is on the wire by now
        if (sent === 10) return controller.close()
        await new Promise((r) => setTimeout(r, 100))
        sent++
        controller.enqueue(chunk)
      }
    })
    const uploaded = await sdk.registry.uploadArtifact(second.id, slow)
    expect(uploaded.artifact?.sizeBytes).toBe(10 * chunk.length)
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain("SIGTERM received")

    const restarted = await startProcess({ ML_MODEL_STORAGE_DIR: dataDir })
    const again = createClient({ baseUrl: restarted.url })
    expect((await again.registry.getProduction("churn")).id).toBe(model.id)
    const download = await again.registry.downloadArtifact(model.id)
    expect(createHash("sha256").update(await download.bytes()).digest("hex")).toBe(
      createHash("sha256").update(artifact).digest("hex")
    )
    expect((await again.registry.getModel(second.id)).artifact?.sizeBytes).toBe(10 * chunk.length)
    restarted.child.kill("SIGTERM")
    expect(await restarted.exited).toBe(0)
    await fs.rm(dataDir, { recursive: true, force: true })
  })

  it("leaves no partial artifact and no half-registered model after a disconnect or a crash mid-upload", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-crash-"))
    const filesUnder = async (dir: string) =>
      (await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile()).map((
        e
      ) => e.name)
    const slowBody = (onChunk: (n: number) => void) => {
      let sent = 0
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((r) => setTimeout(r, 50))
          onChunk(++sent)
          controller.enqueue(new Uint8Array(256 * 1024).fill(sent))
        }
      })
    }
    const waitFor = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50))
    }

    const server = await startProcess({ ML_MODEL_STORAGE_DIR: dataDir })
    const sdk = createClient({ baseUrl: server.url })
    const model = await sdk.registry.registerModel({ name: "crash", version: "1", algorithm: "a", framework: "f" })
    const tmp = path.join(dataDir, "artifacts", ".tmp")

    // 1. The client goes away mid-upload: the server drops the temp file, the model keeps no artifact.
    const abort = new AbortController()
    const aborted = fetch(`${server.url}/v1/models/${model.id}/artifact`, {
      method: "PUT",
      signal: abort.signal,
      duplex: "half",
      body: slowBody((n) => n === 8 && abort.abort())
    } as RequestInit).catch((e: Error) => e)
    expect(await aborted).toBeInstanceOf(Error)
    await waitFor(async () => (await filesUnder(tmp)).length === 0)
    expect(await filesUnder(tmp)).toEqual([])
    expect((await sdk.registry.getModel(model.id)).artifact).toBeNull()

    // 2. The server dies (SIGKILL) mid-upload: after a restart nothing partial is left.
    let partialSeen = false
    const killed = fetch(`${server.url}/v1/models/${model.id}/artifact`, {
      method: "PUT",
      duplex: "half",
      body: slowBody((n) => {
        if (n === 8) {
          void filesUnder(tmp).then((files) => {
            partialSeen = files.length === 1
            server.child.kill("SIGKILL")
          })
        }
      })
    } as RequestInit).catch((e: Error) => e)
    expect(await killed).toBeInstanceOf(Error)
    await server.exited
    expect(partialSeen).toBe(true) // the upload really was half-written when the process died

    const restarted = await startProcess({ ML_MODEL_STORAGE_DIR: dataDir })
    expect(await filesUnder(path.join(dataDir, "artifacts"))).toEqual([])
    const again = createClient({ baseUrl: restarted.url })
    expect(await again.registry.getModel(model.id)).toMatchObject({ status: "draft", artifact: null })
    expect((await again.registry.uploadArtifact(model.id, new Uint8Array([1, 2, 3]))).artifact?.sizeBytes).toBe(3)
    restarted.child.kill("SIGTERM")
    expect(await restarted.exited).toBe(0)
    await fs.rm(dataDir, { recursive: true, force: true })
  })

  it("refuses to start with an invalid setting, naming the variable", async () => {
    const child = spawn(process.execPath, [serverMain], {
      env: { PATH: process.env.PATH ?? "", ML_PORT: "eighty" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stderr.on("data", (c: Buffer) => (output += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(2)
    expect(output).toContain("ML_PORT")
  })
})
