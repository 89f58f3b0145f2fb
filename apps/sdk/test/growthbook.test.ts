/**
 * Any GrowthBook SDK as our client (issue 21), checked with the real `@growthbook/growthbook`
 * SDK pointed at a real server on an ephemeral port: for 10,000 users and experiments with
 * uneven weights, partial coverage, a re-split, targeting (condition, hash attribute, namespace,
 * holdout), a custom feature key, a pause and a completion with a winner, the SDK's feature value
 * equals the model our
 * POST .../assignments answers (stickiness off); streaming delivers a re-split within a second;
 * an encrypted connection's payload decrypts in the SDK; ETag/304, CORS and key management.
 */
import { clearCache, configureCache, GrowthBookClient, setPolyfills } from "@growthbook/growthbook"
import { afterAll, describe, expect, it } from "vitest"
import { createClient } from "../src/index.js"
import { FetchEventSource, registerModels, variants, within } from "./growthBookSdk.js"
import { useServer } from "./serverFixture.js"

const server = useServer({ ML_AB_MIN_SAMPLES: "20" })
setPolyfills({ EventSource: FetchEventSource })
// Every GrowthBook client here starts from the network, never from another test's cached payload.
configureCache({ disableCache: true })
afterAll(() => clearCache())

const USERS = 10_000
const countries = ["DE", "FR", "US", "GB", "JP"]
const users = Array.from({ length: USERS }, (_, i) => {
  const attributes: Record<string, string> = { country: countries[i % countries.length]! }
  // Every 13th user has no account: the experiment hashing accountId leaves them out.
  if (i % 13 !== 0) attributes.accountId = `acct-${(i * 7919) % 4000}`
  return { id: `user-${i}`, attributes }
})

const client = () => createClient({ baseUrl: server.url })

/** Our server's model for every user, through the batch assignment endpoint. */
const serverModels = async (experimentId: string): Promise<Array<string>> => {
  const ml = client()
  const models: Array<string> = []
  for (let from = 0; from < USERS; from += 2_000) {
    const batch = users.slice(from, from + 2_000)
    const answers = await ml.experiments.getModelAssignments(
      experimentId,
      batch.map((u) => u.id),
      Object.fromEntries(batch.map((u) => [u.id, u.attributes]))
    )
    models.push(...answers.map((a) => a.modelId))
  }
  return models
}

const gbModels = (gb: GrowthBookClient, featureKey: string): Array<string> =>
  users.map((u) => gb.getFeatureValue(featureKey, "missing", { attributes: { id: u.id, ...u.attributes } }))

describe("GrowthBook-compatible features endpoint", () => {
  it("agrees with us on 10,000 users: weights, coverage, re-split, targeting, pause, completion", async () => {
    const ml = client()
    const ids = await registerModels(ml, 3)
    const create = (extra: Record<string, unknown>, shares: ReadonlyArray<number> = [50, 50]) =>
      ml.experiments.create({
        name: "gb",
        targetMetric: "conversion",
        stickyAssignment: false,
        variants: variants(ids, shares),
        ...extra
      } as never)
    const weights = await create({}, [20, 30, 50])
    const coverage = await create({ coverage: 0.6 })
    const resplit = await create({})
    const targeted = await create({
      coverage: 0.9,
      condition: { country: { $in: ["DE", "FR", "US"] } },
      hashAttribute: "accountId",
      namespace: { id: "gb-ns", start: 0.1, end: 0.8 },
      holdout: { id: "gb-holdout", share: 0.15 }
    }, [40, 60])
    const paused = await create({})
    const completed = await create({})
    const draft = await create({})
    const keyed = await create({ featureKey: "gb-checkout-model" }, [30, 70])
    for (const e of [weights, coverage, resplit, targeted, paused, completed, keyed]) await ml.experiments.start(e.id)
    await ml.experiments.update(resplit.id, { trafficPct: [10, 90] })
    await ml.experiments.pause(paused.id)
    // A clear winner: the treatment converts far more often.
    await ml.experiments.recordExposures(completed.id, [{ modelId: ids[0]!, count: 200 }, {
      modelId: ids[1]!,
      count: 200
    }])
    await ml.experiments.recordMetrics(
      completed.id,
      Array.from({ length: 400 }, (_, i) => ({
        modelId: ids[i % 2]!,
        metric: "conversion",
        value: i % 2 === 0 ? (i % 10 === 0 ? 1 : 0) : (i % 10 === 9 ? 0 : 1)
      }))
    )
    const done = await ml.experiments.complete(completed.id)
    expect(done.decision?.winnerModelId).toBe(ids[1])

    const connection = await ml.createSdkConnection({ name: "gb-all" })
    const gb = new GrowthBookClient({ apiHost: server.url, clientKey: connection.clientKey })
    const init = await gb.init({ timeout: 5_000, streaming: false })
    expect(init.success).toBe(true)

    for (const experiment of [weights, coverage, resplit, targeted, paused, completed, draft, keyed]) {
      const ours = await serverModels(experiment.id)
      const theirs = gbModels(gb, experiment.featureKey ?? experiment.id)
      const differences = ours.filter((model, i) => model !== theirs[i]).length
      expect(differences, experiment.id).toBe(0)
      // Not a vacuous agreement: running experiments spread users over their variants.
      if ([weights, coverage, resplit, targeted, keyed].includes(experiment)) {
        expect(new Set(ours).size, experiment.id).toBeGreaterThan(1)
      }
    }
    // The completed experiment serves its winner to everyone, the paused one its control.
    expect(new Set(gbModels(gb, completed.id))).toEqual(new Set([ids[1]]))
    expect(new Set(gbModels(gb, paused.id))).toEqual(new Set([ids[0]]))
    // A custom feature key replaces the id as the feature's name.
    expect(keyed.featureKey).toBe("gb-checkout-model")
    expect(new Set(gbModels(gb, keyed.id))).toEqual(new Set(["missing"]))
    gb.destroy()
  })

  it("streams a re-split to a GrowthBook SDK within a second (/sub); 304 for an unchanged ETag", async () => {
    const ml = client()
    const ids = await registerModels(ml, 2)
    const experiment = await ml.experiments.create({
      name: "gb-stream",
      targetMetric: "conversion",
      stickyAssignment: false,
      variants: variants(ids, [50, 50])
    })
    await ml.experiments.start(experiment.id)
    const connection = await ml.createSdkConnection({ name: "gb-stream", projectFilter: [experiment.id] })

    const url = `${server.url}/api/features/${connection.clientKey}`
    const first = await fetch(url, { headers: { origin: "https://shop.example" } })
    expect(first.status).toBe(200)
    expect(first.headers.get("access-control-allow-origin")).toBe("*")
    expect(first.headers.get("x-sse-support")).toBe("enabled")
    const payload = (await first.json()) as { features: Record<string, unknown> }
    // The filter serves this experiment only.
    expect(Object.keys(payload.features)).toEqual([experiment.id])
    const etag = first.headers.get("etag")!
    expect((await fetch(url, { headers: { "if-none-match": etag } })).status).toBe(304)

    // `streaming: false` in another test turned the SDK's global background sync off.
    configureCache({ backgroundSync: true })
    const gb = new GrowthBookClient({ apiHost: server.url, clientKey: connection.clientKey })
    await gb.init({ timeout: 5_000, streaming: true })
    const share = () => {
      let treated = 0
      for (let i = 0; i < 2_000; i++) {
        if (gb.getFeatureValue(experiment.id, "", { attributes: { id: `s-${i}` } }) === ids[1]) treated++
      }
      return treated / 2_000
    }
    expect(share()).toBeGreaterThan(0.4)
    expect(share()).toBeLessThan(0.6)
    // Let the stream open before the change.
    await new Promise((resolve) => setTimeout(resolve, 300))

    await ml.experiments.update(experiment.id, { trafficPct: [100, 0] })
    const changedAt = performance.now()
    const elapsed = await within(3_000, () => share() === 0)
    expect(performance.now() - changedAt).toBeLessThan(1_000)
    expect(elapsed).toBeLessThan(1_000)
    // The payload changed, so the old ETag gets the new body.
    expect((await fetch(url, { headers: { "if-none-match": etag } })).status).toBe(200)
    gb.destroy()
  })

  it("serves encryptedFeatures that the GrowthBook SDK decrypts with the connection's key", async () => {
    const ml = client()
    const ids = await registerModels(ml, 2)
    const experiment = await ml.experiments.create({
      name: "gb-encrypted",
      targetMetric: "conversion",
      stickyAssignment: false,
      variants: variants(ids, [30, 70])
    })
    await ml.experiments.start(experiment.id)
    const connection = await ml.createSdkConnection({ name: "gb-encrypted", encrypt: true })
    expect(connection.decryptionKey).toMatch(/^[A-Za-z0-9+/]{22}==$/u)
    const raw = (await (await fetch(`${server.url}/api/features/${connection.clientKey}`)).json()) as {
      features: object
      encryptedFeatures: string
    }
    expect(raw.features).toEqual({})
    expect(raw.encryptedFeatures).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/u)
    expect(JSON.stringify(raw)).not.toContain(ids[1])

    const gb = new GrowthBookClient({
      apiHost: server.url,
      clientKey: connection.clientKey,
      decryptionKey: connection.decryptionKey!
    })
    await gb.init({ timeout: 5_000, streaming: false })
    const ours = await ml.experiments.getModelAssignments(experiment.id, users.slice(0, 500).map((u) => u.id))
    for (const [i, answer] of ours.entries()) {
      expect(gb.getFeatureValue(experiment.id, "", { attributes: { id: users[i]!.id } })).toBe(answer.modelId)
    }
    gb.destroy()
    // A wrong key does not decrypt.
    const wrong = new GrowthBookClient({
      apiHost: server.url,
      clientKey: connection.clientKey,
      decryptionKey: "AAAAAAAAAAAAAAAAAAAAAA=="
    })
    await wrong.init({ timeout: 5_000, streaming: false }).catch(() => undefined)
    expect(wrong.getFeatureValue(experiment.id, "none", { attributes: { id: "u" } })).toBe("none")
    wrong.destroy()
  })

  it("our SDK's ready trackingCallback posts the exposures a GrowthBook SDK reports (custom feature key)", async () => {
    const ml = client()
    const ids = await registerModels(ml, 2)
    const experiment = await ml.experiments.create({
      name: "gb-tracked",
      targetMetric: "conversion",
      stickyAssignment: false,
      variants: variants(ids, [40, 60]),
      featureKey: "gb-tracked-model"
    })
    await ml.experiments.start(experiment.id)
    const connection = await ml.createSdkConnection({ name: "gb-tracked" })
    // Batches leave at close() only, so the counts below are what one flush sent.
    const local = ml.experiments.local({ flushIntervalMs: 600_000 })
    const gb = new GrowthBookClient({
      apiHost: server.url,
      clientKey: connection.clientKey,
      trackingCallback: local.trackingCallback
    })
    await gb.init({ timeout: 5_000, streaming: false })
    const served = new Map<string, number>()
    for (let i = 0; i < 500; i++) {
      const model = gb.getFeatureValue("gb-tracked-model", "missing", { attributes: { id: `tracked-${i}` } })
      served.set(model, (served.get(model) ?? 0) + 1)
    }
    gb.destroy()
    await local.close()
    expect(new Set(served.keys())).toEqual(new Set(ids))
    const results = await ml.experiments.getExperimentResults(experiment.id)
    expect(new Map(results.variants.map((v) => [v.modelId, v.exposures]))).toEqual(served)
  })

  it("manages SDK connections: list, audit events, delete (the key stops serving), 404s", async () => {
    const ml = client()
    const connection = await ml.createSdkConnection({ name: "gb-managed" })
    expect(connection.clientKey).toMatch(/^sdk-[A-Za-z0-9_-]{24}$/u)
    expect((await ml.listSdkConnections()).map((c) => c.id)).toContain(connection.id)
    const url = `${server.url}/api/features/${connection.clientKey}`
    expect((await fetch(url)).status).toBe(200)
    await ml.deleteSdkConnection(connection.id)
    expect((await fetch(url)).status).toBe(404)
    expect((await fetch(`${server.url}/sub/${connection.clientKey}`)).status).toBe(404)
    expect((await ml.listSdkConnections()).map((c) => c.id)).not.toContain(connection.id)
    const events = (await (await fetch(`${server.url}/v1/sdk-connections/events`)).json()) as {
      items: Array<{ action: string; connectionId: string; actor: string }>
    }
    expect(events.items.filter((e) => e.connectionId === connection.id).map((e) => e.action)).toEqual([
      "created",
      "deleted"
    ])
    const refused = await fetch(`${server.url}/v1/sdk-connections`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x", projectFilter: Array.from({ length: 65 }, () => "a*") })
    })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain("projectFilter")
    expect((await ml.listSdkConnections()).some((c) => c.name === "x")).toBe(false)
  })
})
