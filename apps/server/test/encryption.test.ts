// Artifacts encrypted at rest, through the real server process over HTTP: upload and download
// with ML_ARTIFACT_ENCRYPTION_KEY, what lands on disk, a tampered chunk, a missing key, rotation.
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig } from "../src/Config.js"
import { metadata } from "./helpers.js"
import { killHard, launchServer, type ListeningServer, startServer } from "./serverProcess.js"

const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-encryption-"))
const running: Array<ListeningServer> = []
afterAll(async () => {
  await Promise.all(running.map((server) => killHard(server.child)))
  await fs.rm(directory, { recursive: true, force: true })
})

const keyA = randomBytes(32).toString("base64")
const keyB = randomBytes(32).toString("base64")
const keyIdOf = (base64: string) =>
  createHash("sha256").update(Buffer.from(base64, "base64")).digest("hex").slice(0, 16)
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const start = async (env: Record<string, string>) => {
  const server = await startServer(directory, env)
  running.push(server)
  return server
}
const stop = (server: ListeningServer) => killHard(server.child)

const upload = async (url: string, bytes: Uint8Array<ArrayBuffer>) => {
  const registered = await fetch(`${url}/v1/models`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(metadata({ version: `v-${randomBytes(4).toString("hex")}` }))
  })
  expect(registered.status).toBe(201)
  const { id } = (await registered.json()) as { id: string }
  const uploaded = await fetch(`${url}/v1/models/${id}/artifact`, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream", "x-artifact-sha256": sha256(bytes) },
    body: bytes
  })
  expect(uploaded.status).toBe(200)
  return id
}

const download = async (url: string, id: string) => {
  const response = await fetch(`${url}/v1/models/${id}/artifact`)
  return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) }
}

describe("artifacts encrypted at rest (server process)", () => {
  // Three 1 MiB chunks, so the tampered one below comes after chunks that authenticate.
  const bytes = new Uint8Array(randomBytes(2 * 1024 * 1024 + 300 * 1024 + 17))
  let modelId = ""

  it("keeps the keys redacted wherever the configuration is printed", () => {
    const config = loadConfig({ ML_ARTIFACT_ENCRYPTION_KEY: keyA, ML_ARTIFACT_DECRYPTION_KEYS: keyB })
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      expect(printed).not.toContain(keyA)
      expect(printed).not.toContain(keyB)
    }
    expect(loadConfig({}).artifactEncryption).toBeUndefined()
  })

  it("refuses to start with a malformed key, naming the variable and not echoing the value", async () => {
    for (
      const env of [
        { ML_ARTIFACT_ENCRYPTION_KEY: "c2hvcnQta2V5" },
        { ML_ARTIFACT_ENCRYPTION_KEY: keyA, ML_ARTIFACT_DECRYPTION_KEYS: `${keyB},c2hvcnQta2V5` }
      ]
    ) {
      const result = await launchServer(directory, env)
      if (!("exited" in result)) {
        running.push(result)
        throw new Error("the server started with a malformed key")
      }
      expect(result.exited).not.toBe(0)
      expect(result.output).toMatch(/ML_ARTIFACT_(ENCRYPTION_KEY|DECRYPTION_KEYS): .*32 bytes in base64/)
      expect(result.output).not.toContain("c2hvcnQta2V5")
    }
  })

  it("uploads and downloads with a key; the file on disk is ciphertext named .enc", async () => {
    const server = await start({ ML_ARTIFACT_ENCRYPTION_KEY: keyA })
    modelId = await upload(server.url, bytes)
    const downloaded = await download(server.url, modelId)
    expect(downloaded.status).toBe(200)
    expect(Buffer.from(downloaded.body).equals(Buffer.from(bytes))).toBe(true)
    await stop(server)
    const files = await fs.readdir(path.join(directory, "artifacts", modelId))
    expect(files).toEqual([`${sha256(bytes)}.enc`])
    const onDisk = await fs.readFile(path.join(directory, "artifacts", modelId, files[0]!))
    expect(onDisk.includes(Buffer.from(bytes.subarray(1000, 1032)))).toBe(false)
  })

  it("without the key the download is a 503 naming the key id; a rotated key set reads it again", async () => {
    const withoutKey = await start({})
    const refused = await fetch(`${withoutKey.url}/v1/models/${modelId}/artifact`)
    expect(refused.status).toBe(503)
    expect(await refused.text()).toContain(keyIdOf(keyA))
    await stop(withoutKey)

    const rotated = await start({ ML_ARTIFACT_ENCRYPTION_KEY: keyB, ML_ARTIFACT_DECRYPTION_KEYS: keyA })
    const downloaded = await download(rotated.url, modelId)
    expect(downloaded.status).toBe(200)
    expect(Buffer.from(downloaded.body).equals(Buffer.from(bytes))).toBe(true)
    await stop(rotated)
  })

  it("a tampered chunk is a 422 IntegrityError and nothing is served", async () => {
    const file = path.join(directory, "artifacts", modelId, `${sha256(bytes)}.enc`)
    const stored = await fs.readFile(file)
    stored[stored.byteLength - 1000]! ^= 1 // in the last chunk: a streaming check would have served two
    await fs.writeFile(file, stored)
    const server = await start({ ML_ARTIFACT_ENCRYPTION_KEY: keyA })
    const response = await fetch(`${server.url}/v1/models/${modelId}/artifact`)
    expect(response.status).toBe(422)
    expect(response.headers.get("content-type")).toBe("application/problem+json")
    const problem = (await response.json()) as { code: string; expectedSha256: string }
    expect(problem).toMatchObject({ code: "IntegrityError", expectedSha256: sha256(bytes) })
    await stop(server)
  })
})
