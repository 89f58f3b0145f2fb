// Scaled out with no shared disk: three server processes, each with a data directory of its own,
// keep every record in one PostgreSQL database and every artifact in one S3-compatible bucket
// (s3rver). Concurrent promotions leave exactly one production version, an artifact uploaded
// through one instance downloads verified through the others, sticky assignments agree, and a
// drift monitor is checked once per interval in total, not once per instance.
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { type RunningS3rver, s3rverCredentials, startS3rver } from "@org/ml-adapter-s3/testing"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { metadata } from "./helpers.js"
import { killHard, type ListeningServer, startServer } from "./serverProcess.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const post = (url: string, body?: unknown) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

let database: TestDatabase
let s3: RunningS3rver
const servers: Array<ListeningServer> = []
const directories: Array<string> = []

beforeAll(async () => {
  database = await freshDatabase("scaled_out")
  s3 = await startS3rver()
  for (let i = 0; i < 3; i++) {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-scaled-out-"))
    directories.push(directory)
    servers.push(
      await startServer(directory, {
        ML_DATABASE_URL: database.url,
        ML_ARTIFACT_URL: `s3://${s3.bucket}/scaled-out-${process.pid}`,
        ML_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
        ML_DRIFT_CHECK_INTERVAL: "1",
        ML_DRIFT_SCHEDULER_TICK_MS: "50",
        ML_AB_REWEIGHT_INTERVAL: "0"
      })
    )
  }
}, 120_000)
afterAll(async () => {
  await Promise.all(servers.map((server) => killHard(server.child)))
  await s3?.stop()
  await database?.drop()
  await Promise.all(directories.map((d) => fs.rm(d, { recursive: true, force: true })))
})

describe("three instances on PostgreSQL and S3, no shared disk", () => {
  it("leaves exactly one production version after concurrent promotions through every instance", async () => {
    const ids: Array<string> = []
    for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
      const response = await post(`${servers[0]!.url}/v1/models`, metadata({ name: "scaled", version }))
      expect(response.status).toBe(201)
      const id = ((await response.json()) as { id: string }).id
      // A version leaves draft only with its artifact.
      const weights = new TextEncoder().encode(`weights of ${version}`)
      const uploaded = await fetch(`${servers[2]!.url}/v1/models/${id}/artifact`, {
        method: "PUT",
        headers: { "content-type": "application/octet-stream" },
        body: weights
      })
      expect(uploaded.status).toBe(200)
      for (const status of ["testing", "staging"]) {
        const promoted = await post(`${servers[1]!.url}/v1/models/${id}/promote`, { status })
        expect(promoted.status, await promoted.clone().text()).toBe(200)
      }
      ids.push(id)
    }
    const outcomes = await Promise.all(
      ids.map((id, i) => post(`${servers[i]!.url}/v1/models/${id}/promote`, { status: "production" }))
    )
    // Each promotion demotes the production version it saw: racing ones may be refused as conflicts
    // (409, to retry), never both applied.
    const statuses = outcomes.map((response) => response.status)
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true)
    expect(statuses).toContain(200)
    for (const server of servers) {
      const page = (await (await fetch(`${server.url}/v1/models?name=scaled&status=production`)).json()) as {
        items: Array<{ id: string }>
      }
      expect(page.items).toHaveLength(1)
      const production = (await (await fetch(`${server.url}/v1/registry/scaled/production`)).json()) as { id: string }
      expect(production.id).toBe(page.items[0]!.id)
    }
  })

  it("downloads verified through every instance what one instance uploaded; nothing on any disk", async () => {
    const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 77))
    const created = await post(`${servers[0]!.url}/v1/models`, metadata({ name: "scaled-artifact" }))
    const id = ((await created.json()) as { id: string }).id
    const uploaded = await fetch(`${servers[0]!.url}/v1/models/${id}/artifact`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-artifact-sha256": sha256(bytes) },
      body: bytes
    })
    expect(uploaded.status).toBe(200)
    for (const server of servers) {
      const response = await fetch(`${server.url}/v1/models/${id}/artifact`)
      expect(response.status).toBe(200)
      expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(bytes))
    }
    for (const directory of directories) {
      expect(await fs.readdir(path.join(directory, "artifacts")).catch(() => [])).toEqual([])
    }
  })

  it("gives every user the same variant on every instance, even when first asked everywhere at once", async () => {
    const register = async (version: string) =>
      ((await (await post(`${servers[0]!.url}/v1/models`, metadata({ name: "scaled-ab", version }))).json()) as {
        id: string
      }).id
    const control = await register("1.0.0")
    const treatment = await register("2.0.0")
    const experiment = ((await (await post(`${servers[1]!.url}/v1/experiments`, {
      name: "scaled ranker",
      targetMetric: "ctr",
      variants: [
        { modelId: control, isControl: true, trafficPct: 50 },
        { modelId: treatment, isControl: false, trafficPct: 50 }
      ]
    })).json()) as { id: string }).id
    expect((await post(`${servers[2]!.url}/v1/experiments/${experiment}/start`)).status).toBe(200)
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`)
    const answers = await Promise.all(
      servers.map(async (server) =>
        Promise.all(users.map(async (userId) => {
          const response = await post(`${server.url}/v1/experiments/${experiment}/assignments`, { userId })
          return ((await response.json()) as { modelId: string }).modelId
        }))
      )
    )
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])
    expect(new Set(answers[0]).size).toBe(2)
  })

  it("checks a drift monitor once per interval in total, not once per instance", async () => {
    const uniform = () => Math.random()
    const sample = (n: number) => Array.from({ length: n }, () => uniform() + uniform() + uniform() - 1.5)
    expect(
      (await post(`${servers[0]!.url}/v1/drift/monitors`, {
        id: "scaled-inputs",
        features: [{ name: "x", kind: "feature", type: "numeric" }],
        settings: { windowSize: 5000, minWindow: 10, checkIntervalSeconds: 1 }
      })).status
    ).toBe(201)
    const baseline = await fetch(`${servers[1]!.url}/v1/drift/monitors/scaled-inputs/baseline`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x: sample(500) })
    })
    expect(baseline.status).toBe(200)
    for (const server of servers) {
      expect(
        (await post(`${server.url}/v1/drift/monitors/scaled-inputs/observations`, { values: { x: sample(100) } }))
          .status
      ).toBeLessThan(300)
    }
    await new Promise((resolve) => setTimeout(resolve, 3500))
    const reports = ((await (await fetch(`${servers[2]!.url}/v1/drift/reports?monitorId=scaled-inputs`)).json()) as {
      items: Array<{ at: string }>
    }).items
    expect(reports.length).toBeGreaterThanOrEqual(2)
    // Three instances checking on their own would leave reports tens of ms apart; the shared lease
    // leaves one per interval (a loaded machine delays a check by up to a few hundred ms).
    const gaps = reports.slice(1).map((report, i) => Date.parse(report.at) - Date.parse(reports[i]!.at))
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(500)
  })
})
