// A database dropped and recreated under a running server (or restored from another cluster) is
// refused by /readyz and by every request, as an emptied Redis is, instead of answering 404 for
// the records it acknowledged and accepting writes into the wrong data.
import { PostgresClient } from "@org/ml-adapter-postgres"
import { adminUrl, freshDatabase } from "@org/ml-adapter-postgres/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { loadConfig, type RunningServer, startServer } from "../src/index.js"
import { metadata } from "./helpers.js"

const database = await freshDatabase("server_instance")
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-instance-"))
const logs: Array<string> = []
let server: RunningServer
beforeAll(async () => {
  server = await startServer(
    loadConfig({
      ML_MODEL_STORAGE_DIR: dir,
      ML_PORT: "0",
      ML_DATABASE_URL: database.url,
      ML_AB_REWEIGHT_INTERVAL: "0"
    }),
    (line) => logs.push(line)
  )
}, 60_000)
afterAll(async () => {
  await server.close()
  await database.drop()
  await fs.rm(dir, { recursive: true, force: true })
})

describe("server with ML_DATABASE_URL when the database is replaced under it", () => {
  it("answers 503 naming the database on /readyz and on requests, and writes nothing into it", async () => {
    const created = await fetch(`${server.url}/v1/models`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(metadata({ name: "replaced-under-server" }))
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)

    const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined })
    try {
      await admin.unsafe(`DROP DATABASE "${database.name}" WITH (FORCE)`)
      await admin.unsafe(`CREATE DATABASE "${database.name}"`)
    } finally {
      await admin.end({ timeout: 1 })
    }
    // With the schema, as a restore from another cluster leaves it: only the instance id differs.
    await (await PostgresClient.connect({ url: database.url })).end({ timeout: 1 })

    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.text()).toMatch(/is not the one this server used/)
    const read = await fetch(`${server.url}/v1/models/${id}`)
    expect(read.status).toBe(503)
    expect(((await read.json()) as { detail: string }).detail).toMatch(/is not the one this server used/)
    const write = await fetch(`${server.url}/v1/models`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(metadata({ name: "into-the-wrong-database" }))
    })
    expect(write.status).toBe(503)
    const check = postgres(database.url, { max: 1, onnotice: () => undefined })
    try {
      expect(await check`SELECT id FROM ml_models`).toHaveLength(0)
    } finally {
      await check.end({ timeout: 1 })
    }
  })
})
