// "What served user U at time T" over HTTP, checked against what the assignment endpoint really
// answered: an experiment is created, started, re-split, paused, resumed and completed with a
// winner (promoted to production), with users assigned in each phase and the server's clock read
// around each step; then GET /v1/served is asked for every user of every phase, at the start and
// at the end of the phase, and must agree with the recorded answers, for a sticky experiment and
// for a non-sticky one with partial coverage. Production at a time comes through the same endpoint.
// Run on the filesystem, on Redis (its one-script hot path) and composed (PostgreSQL + Redis).
import { freshDatabase, type TestDatabase } from "@org/ml-adapter-postgres/testing"
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import type { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

let admin: Redis
let database: TestDatabase
const prefixes: Array<string> = []
beforeAll(async () => {
  admin = await connectOrFail()
  database = await freshDatabase("served_users")
}, 120_000)
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(admin, prefix)
  await admin.quit()
  await database?.drop()
}, 60_000)

interface Assigned {
  readonly userId: string
  readonly variant: number
  readonly modelId: string
  readonly inExperiment: boolean
  readonly sticky: boolean
}
interface Served {
  readonly modelId: string
  readonly name: string
  readonly version: string
  readonly variant: number | null
  readonly source: string
  readonly definitionRevision: number | null
  readonly explanation: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Server's clock: the app runs in this process, so its Clock is this Date.now(). Steps are set apart by a few ms. */
const instant = async () => {
  await sleep(3)
  const at = new Date().toISOString()
  await sleep(3)
  return at
}

const modes: ReadonlyArray<[string, () => Record<string, string>]> = [
  ["filesystem", () => ({})],
  ["Redis", () => {
    const prefix = uniquePrefix("served")
    prefixes.push(prefix)
    return { ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
  }],
  ["PostgreSQL + Redis", () => {
    const prefix = uniquePrefix("served-composed")
    prefixes.push(prefix)
    return { ML_DATABASE_URL: database.url, ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: prefix }
  }]
]

describe.each(modes)("what served a user, %s", (_mode, environment) => {
  it("agrees with every recorded assignment, at the start and end of each phase, sticky or not", async () => {
    const t = await makeTestApp({ ML_AB_MIN_SAMPLES: "50", ML_AB_REWEIGHT_INTERVAL: "0", ...environment() })
    try {
      const request = async (url: string, init?: RequestInit) => {
        const response = await t.app.request(url, init)
        return { status: response.status, body: (await response.json()) as any }
      }
      const name = `served-${Math.random().toString(36).slice(2, 8)}`
      const model = async (version: string) => {
        const { body } = await request("/v1/models", json(metadata({ name, version })))
        await t.app.request(`/v1/models/${body.id}/artifact`, { method: "PUT", body: new Uint8Array([1]) })
        expect((await request(`/v1/models/${body.id}/promote`, json({ status: "testing" }))).status).toBe(200)
        return body.id as string
      }
      const [control, treatment] = [await model("1.0.0"), await model("2.0.0")]
      const beforeProduction = await instant()
      for (const status of ["staging", "production"]) {
        expect((await request(`/v1/models/${control}/promote`, json({ status }))).status).toBe(200)
      }
      const variants = [{ modelId: control, isControl: true, trafficPct: 50 }, {
        modelId: treatment,
        isControl: false,
        trafficPct: 50
      }]
      const create = async (id: string, extra: Record<string, unknown>) => {
        const created = await request(
          "/v1/experiments",
          json({ id, name: id, targetMetric: "revenue", variants, ...extra })
        )
        expect(created.status).toBe(201)
        return id
      }
      const suffix = Math.random().toString(36).slice(2, 8)
      const experiments = [
        await create(`sticky-${suffix}`, { stickyAssignment: true }),
        await create(`plain-${suffix}`, { stickyAssignment: false, coverage: 0.8 })
      ]
      const users = Array.from({ length: 120 }, (_, i) => `user-${i}`)
      const firstHalf = users.slice(0, 60)

      /** Per phase: the instants bounding it and what assignment answered, per experiment and user. */
      const phases: Array<{ name: string; from: string; to: string; answers: Map<string, Assigned> }> = []
      const phase = async (phaseName: string, who: ReadonlyArray<string>) => {
        const from = await instant()
        const answers = new Map<string, Assigned>()
        for (const id of experiments) {
          const { body, status } = await request(`/v1/experiments/${id}/assignments`, json({ userIds: who }))
          expect(status).toBe(200)
          for (const a of body.items as Array<Assigned>) answers.set(`${id}\u0000${a.userId}`, a)
        }
        phases.push({ name: phaseName, from, to: await instant(), answers })
      }
      const step = async (path: string, init: RequestInit) => {
        for (const id of experiments) expect((await request(`/v1/experiments/${id}${path}`, init)).status).toBe(200)
      }

      await phase("draft", users)
      await step("/start", { method: "POST" })
      await phase("started", firstHalf)
      await step("", json({ trafficPct: [20, 80] }, { method: "PATCH" }))
      await phase("re-split", users)
      await step("/pause", { method: "POST" })
      await phase("paused", users)
      await step("/start", { method: "POST" })
      await phase("resumed", users)
      // The treatment does clearly better, so completion declares it the winner (and promotes it).
      const observations = Array.from({ length: 400 }, (_, i) => ({
        modelId: i % 2 ? treatment : control,
        metric: "revenue",
        value: (i % 2 ? 12 : 10) + ((i * 7919) % 100) / 100
      }))
      for (const id of experiments) {
        expect((await request(`/v1/experiments/${id}/metrics`, json({ observations }))).status).toBe(202)
        // Exposures topped up to the 20/80 split, so the sample-ratio check does not stop the decision.
        const exposed = ((await request(`/v1/experiments/${id}/results`)).body.variants as Array<{ exposures: number }>)
          .map((v) => v.exposures)
        const total = 5 * Math.max(exposed[0]!, Math.ceil(exposed[1]! / 4))
        const exposures = [
          { modelId: control, count: total / 5 - exposed[0]! },
          { modelId: treatment, count: (total * 4) / 5 - exposed[1]! }
        ].filter((e) => e.count > 0)
        if (exposures.length > 0) {
          expect((await request(`/v1/experiments/${id}/exposures`, json({ exposures }))).status).toBe(202)
        }
      }
      const beforeCompletion = await instant()
      for (const id of experiments) {
        const completed = await request(
          `/v1/experiments/${id}/complete`,
          json({ promoteWinner: id === experiments[0] })
        )
        expect(completed.status).toBe(200)
        expect(completed.body.decision).toMatchObject({ outcome: "winner", winnerModelId: treatment })
      }
      await phase("completed", users)

      const sources = new Map<string, number>()
      let compared = 0
      for (const { answers, from, name: phaseName, to } of phases) {
        for (const [key, assigned] of answers) {
          const [experimentId, userId] = key.split("\u0000") as [string, string]
          for (const at of [from, to]) {
            const query = new URLSearchParams({ userId, at, experimentId })
            const { body, status } = await request(`/v1/served?${query}`)
            expect(status, `${phaseName} ${experimentId} ${userId} at ${at}: ${JSON.stringify(body)}`).toBe(200)
            const served = body as Served
            const context = `${phaseName} ${experimentId} ${userId} at ${at}: ${served.explanation}`
            expect({ modelId: served.modelId, variant: served.variant }, context).toEqual({
              modelId: assigned.modelId,
              variant: assigned.variant
            })
            expect(["sticky", "hashed"].includes(served.source), context).toBe(assigned.inExperiment)
            expect(served.name).toBe(name)
            expect(served.version).toBe(assigned.modelId === control ? "1.0.0" : "2.0.0")
            sources.set(served.source, (sources.get(served.source) ?? 0) + 1)
            compared++
          }
        }
      }
      // Every phase and kind of answer was exercised: draft and pause give the control, completion the winner.
      expect(compared).toBe(2 * 2 * (120 * 5 + 60))
      expect([...sources.keys()].sort()).toEqual(["forced-control", "hashed", "sticky", "winner"])

      // A user first assigned after the re-split: hashed with the re-split weights before, sticky after.
      const late = users[100]!
      const resplit = phases[2]!
      const lateQuery = (at: string) => new URLSearchParams({ userId: late, at, experimentId: experiments[0]! })
      expect((await request(`/v1/served?${lateQuery(resplit.from)}`)).body.source).toBe("hashed")
      expect((await request(`/v1/served?${lateQuery(resplit.to)}`)).body.source).toBe("sticky")

      // Production at a time, through the same endpoint (the winner was promoted at completion).
      const production = (at: string) =>
        request(`/v1/served?${new URLSearchParams({ userId: "anyone", at, model: name })}`)
      expect((await production(beforeProduction)).status).toBe(404)
      expect((await production(beforeCompletion)).body).toMatchObject({
        modelId: control,
        version: "1.0.0",
        source: "production",
        variant: null,
        definitionRevision: null,
        alias: "production"
      })
      expect((await production(new Date().toISOString())).body).toMatchObject({ modelId: treatment, version: "2.0.0" })

      // Any alias, from its audit trail: where `champion` pointed between two moves, and never before.
      const aliasServed = (at: string, alias: string) =>
        request(`/v1/served?${new URLSearchParams({ userId: "anyone", at, model: name, alias })}`)
      const beforeAlias = new Date().toISOString()
      await new Promise((resolve) => setTimeout(resolve, 5))
      const setChampion = (version: string) =>
        t.app.request(
          `/v1/registered-models/${name}/aliases/champion`,
          { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ version }) }
        )
      expect((await setChampion("1.0.0")).status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 5))
      const betweenMoves = new Date().toISOString()
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect((await setChampion("2.0.0")).status).toBe(200)
      expect((await aliasServed(beforeAlias, "champion")).status).toBe(404)
      expect((await aliasServed(betweenMoves, "champion")).body).toMatchObject({
        modelId: control,
        version: "1.0.0",
        source: "alias",
        alias: "champion"
      })
      expect((await aliasServed(new Date().toISOString(), "champion")).body).toMatchObject({ modelId: treatment })
      expect((await aliasServed(new Date().toISOString(), "canary")).status).toBe(404)

      // Bad input is a 400 naming the field; an unknown experiment a 404.
      const problem = async (query: Record<string, string>) => {
        const { body, status } = await request(`/v1/served?${new URLSearchParams(query)}`)
        return { status, fields: ((body.errors ?? []) as Array<{ path: string }>).map((e) => e.path) }
      }
      const now = new Date().toISOString()
      expect(await problem({ userId: "u", at: "yesterday", experimentId: experiments[0]! })).toMatchObject({
        status: 400,
        fields: ["at"]
      })
      expect(await problem({ userId: "u", at: now })).toMatchObject({ status: 400, fields: ["experimentId"] })
      expect(await problem({ userId: "u", at: now, experimentId: experiments[0]!, model: name })).toMatchObject({
        status: 400,
        fields: ["experimentId"]
      })
      expect(await problem({ userId: "u", at: beforeProduction, experimentId: experiments[0]! })).toMatchObject({
        status: 400,
        fields: ["at"]
      })
      expect(await problem({ userId: "u", at: now, model: name, alias: "not an alias" })).toMatchObject({
        status: 400,
        fields: ["alias"]
      })
      expect((await problem({ userId: "u", at: now, experimentId: "no-such-experiment" })).status).toBe(404)
    } finally {
      await t.close()
    }
  }, 300_000)
})
