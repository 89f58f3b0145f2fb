// The server on PostgreSQL (ML_DATABASE_URL): three instances on one database and one shared data
// directory (for artifacts), as a scaled-out deployment runs them. Concurrent promotions leave
// exactly one production version, sticky assignments agree, and one pipeline fed through all three
// makes one update. Each test file uses a database of its own and drops only it.
import { freshDatabase } from "@org/ml-adapter-postgres/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import postgres from "postgres"
import { afterAll, describe, expect, it } from "vitest"
import { loadConfig, startServer } from "../src/index.js"
import { metadata } from "./helpers.js"
import { killHard, launchServer } from "./serverProcess.js"

const database = await freshDatabase("server")
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-server-"))
const servers = await Promise.all(
  [0, 1, 2].map(() =>
    startServer(
      loadConfig({
        ML_MODEL_STORAGE_DIR: dir,
        ML_PORT: "0",
        ML_DATABASE_URL: database.url,
        ML_AB_REWEIGHT_INTERVAL: "0"
      }),
      () => undefined
    )
  )
)
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await database.drop()
  await fs.rm(dir, { recursive: true, force: true })
})

const send = (url: string, method: string, body?: unknown) =>
  fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
  })
const post = (url: string, body: unknown) => send(url, "POST", body)

describe("server with ML_DATABASE_URL, three instances", () => {
  it("is ready, and leaves exactly one production version after concurrent promotions on every instance", async () => {
    for (const s of servers) expect((await fetch(`${s.url}/readyz`)).status).toBe(200)
    // The shared data directory remembers the database, so an emptied one is refused at the next start.
    expect(JSON.parse(await fs.readFile(path.join(dir, "postgres-instance.json"), "utf8")).id).toMatch(
      /^[0-9a-f-]{36}$/
    )
    const name = `pg-promote-${Date.now()}`
    const ids: Array<string> = []
    for (let i = 0; i < 6; i++) {
      const created = await post(`${servers[i % 3]!.url}/v1/models`, metadata({ name, version: `${i}.0.0` }))
      expect(created.status).toBe(201)
      const { id } = (await created.json()) as { id: string }
      expect((await send(`${servers[(i + 1) % 3]!.url}/v1/models/${id}/artifact`, "PUT", `weights ${i}`)).status)
        .toBe(200)
      for (const status of ["testing", "staging"]) {
        expect((await post(`${servers[i % 3]!.url}/v1/models/${id}/promote`, { status })).status).toBe(200)
      }
      ids.push(id)
    }
    const answers = await Promise.all(
      ids.map((id, i) => post(`${servers[i % 3]!.url}/v1/models/${id}/promote`, { status: "production" }))
    )
    // Each promotion either won (and demoted the one before) or was refused as a conflict: none failed.
    for (const answer of answers) expect([200, 409]).toContain(answer.status)
    const production = (await (await fetch(`${servers[2]!.url}/v1/models?name=${name}&status=production`)).json()) as {
      items: Array<{ id: string }>
    }
    expect(production.items).toHaveLength(1)
    // An artifact uploaded through one instance downloads, the same bytes, from another.
    const winner = production.items[0]!.id
    const download = await fetch(`${servers[0]!.url}/v1/models/${winner}/artifact`)
    expect(download.status).toBe(200)
    expect(await download.text()).toBe(`weights ${ids.indexOf(winner)}`)
  })

  it("gives one user the same model from 50 concurrent first requests spread over the instances", async () => {
    const ids: Array<string> = []
    for (const version of ["1", "2", "3"]) {
      const model = (await (await post(
        `${servers[0]!.url}/v1/models`,
        metadata({ name: "pg-multi", version: `${version}-${Date.now()}` })
      )).json()) as { id: string }
      ids.push(model.id)
    }
    const experiment = (await (await post(`${servers[1]!.url}/v1/experiments`, {
      name: "pg-multi",
      targetMetric: "ctr",
      variants: ids.map((modelId, i) => ({ modelId, isControl: i === 0, trafficPct: i === 0 ? 34 : 33 }))
    })).json()) as { id: string }
    expect((await post(`${servers[2]!.url}/v1/experiments/${experiment.id}/start`, {})).status).toBe(200)
    const answers = await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          post(`${servers[i % 3]!.url}/v1/experiments/${experiment.id}/assignments`, { userId: "one-user" })
            .then((r) => r.json() as Promise<{ modelId: string; sticky: boolean }>)
      )
    )
    expect(new Set(answers.map((a) => a.modelId)).size).toBe(1)
    expect(answers.every((a) => a.sticky)).toBe(true)
    const results = (await (await fetch(`${servers[0]!.url}/v1/experiments/${experiment.id}/results`)).json()) as {
      variants: Array<{ exposures: number }>
    }
    expect(results.variants.reduce((sum, v) => sum + v.exposures, 0)).toBe(1)
  })
})

describe("server configuration for PostgreSQL", () => {
  it("names PostgreSQL in its start-up line, without the password", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-process-"))
    const url = new URL(database.url)
    url.password = "not-to-be-printed"
    const server = await launchServer(dataDir, { ML_DATABASE_URL: url.toString() })
    try {
      if ("exited" in server) throw new Error(`server exited ${server.exited}:\n${server.output}`)
      expect(server.output()).toContain(`(postgresql records (postgres://***@${url.host}${url.pathname}), artifacts in`)
      expect(server.output()).not.toContain("not-to-be-printed")
    } finally {
      if (!("exited" in server)) await killHard(server.child)
      await fs.rm(dataDir, { recursive: true, force: true })
    }
  })

  it("refuses a URL of another scheme, naming the variable", () => {
    expect(() => loadConfig({ ML_DATABASE_URL: "mysql://x@127.0.0.1/db" })).toThrow(
      /^ML_DATABASE_URL: must start with postgres:\/\/ or postgresql:\/\//
    )
  })

  it("does not start on a database whose schema is newer than it knows, and says so", async () => {
    const newer = await freshDatabase("server_newer")
    const sql = postgres(newer.url, { max: 1, onnotice: () => undefined })
    try {
      await sql`CREATE TABLE ml_schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())`
      await sql`INSERT INTO ml_schema_migrations (version, name) VALUES (1000, 'from the future')`
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "ml-postgres-newer-"))
      const error = await startServer(
        loadConfig({ ML_MODEL_STORAGE_DIR: dataDir, ML_PORT: "0", ML_DATABASE_URL: newer.url }),
        () => undefined
      ).then(async (s) => {
        await s.close()
        return undefined
      }, (e: unknown) => e)
      await fs.rm(dataDir, { recursive: true, force: true })
      expect(String((error as Error | undefined)?.message)).toContain(
        "The database schema is version 1000, newer than this server knows"
      )
    } finally {
      await sql.end()
      await newer.drop()
    }
  })
})
