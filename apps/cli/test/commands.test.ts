/**
 * Every `ml` command once, end to end against a real server process: `--json` output parsed and
 * checked against what the server holds, and the readable forms (tables, the results view).
 */
import { isBinaryLearnerState, loadLearner } from "@org/ml-core"
import { createClient } from "@org/ml-sdk"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectCleanError, killHard, type ListeningServer, mlAgainst, startServer, tempDirectory } from "./cli.js"

let server: ListeningServer
let ml: ReturnType<typeof mlAgainst>["ml"]
let json: ReturnType<typeof mlAgainst>["json"]
const work = tempDirectory("work")
const file = (name: string, content: string | Uint8Array) => {
  const at = path.join(work, name)
  fs.writeFileSync(at, content)
  return at
}
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

beforeAll(async () => {
  server = await startServer(tempDirectory("data"))
  ;({ ml, json } = mlAgainst(server.url))
})
afterAll(async () => {
  await killHard(server.child)
  fs.rmSync(work, { recursive: true, force: true })
})

describe("ml registered-models and ml models alias", () => {
  it("create, update, list, get, alias set/get/delete, history and archive", async () => {
    const register = (version: string) =>
      json([
        "models",
        "register",
        "--name",
        "search-ranker",
        "--version",
        version,
        "--algorithm",
        "gbm",
        "--framework",
        "lgbm"
      ])
    const v1 = await register("1")
    const v2 = await register("2")
    const updated = await json([
      "registered-models",
      "update",
      "search-ranker",
      "--owner",
      "search-team",
      "--tag",
      "domain=search,tier=1"
    ])
    expect(updated).toMatchObject({
      name: "search-ranker",
      owner: "search-team",
      tags: { domain: "search", tier: "1" }
    })
    const created = await json(["registered-models", "create", "empty-one", "--description", "nothing yet"])
    expect(created).toMatchObject({ name: "empty-one", description: "nothing yet", revision: 1 })
    const listed = await json<{ items: Array<{ name: string }> }>(["registered-models", "list"])
    expect(listed.items.map((r) => r.name)).toEqual(expect.arrayContaining(["empty-one", "search-ranker"]))

    expect(await json(["models", "alias", "set", "search-ranker", "champion", "--version", "1"])).toMatchObject({
      id: v1.id
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const between = new Date().toISOString()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await json(["models", "alias", "set", "search-ranker", "champion", "--model-id", v2.id])).toMatchObject({
      id: v2.id
    })
    expect(await json(["models", "alias", "get", "search-ranker", "champion"])).toMatchObject({ id: v2.id })
    expect(await json(["models", "alias", "get", "search-ranker", "champion", "--at", between])).toMatchObject({
      id: v1.id
    })
    const shown = (await ml(["registered-models", "get", "search-ranker"])).stdout
    expect(shown).toMatch(/champion\s+2\s+/)
    expect(await json(["models", "alias", "delete", "search-ranker", "champion"])).toEqual({
      name: "search-ranker",
      alias: "champion",
      deleted: true
    })
    expectCleanError(await ml(["models", "alias", "get", "search-ranker", "champion"]), 3, "champion")
    expectCleanError(
      await ml(["models", "alias", "set", "search-ranker", "production", "--version", "1"]),
      4,
      "production"
    )
    expectCleanError(await ml(["models", "alias", "set", "search-ranker", "x"]), 2, "--version", "--model-id")
    const history = await json<{ items: Array<{ action: string; alias?: string }> }>([
      "registered-models",
      "history",
      "search-ranker"
    ])
    expect(history.items.filter((e) => e.alias === "champion").map((e) => e.action)).toEqual([
      "alias_set",
      "alias_set",
      "alias_deleted"
    ])
    const archived = await json<{ latestVersions: Array<{ status: string }> }>([
      "registered-models",
      "archive",
      "search-ranker",
      "--reason",
      "retired"
    ])
    expect(archived.latestVersions.map((m) => m.status)).toEqual(["archived"])
  })
})

describe("ml models", () => {
  it("register --artifact, upload, list, get, promote, production, history, download, archive", async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251)
    const artifact = file("model.bin", bytes)
    const first = await json([
      "models",
      "register",
      "--name",
      "churn",
      "--version",
      "1.0.0",
      "--algorithm",
      "xgboost",
      "--framework",
      "xgboost",
      "--metric",
      "auc=0.93",
      "--tag",
      "nightly,eu",
      "--artifact",
      artifact
    ])
    expect(first).toMatchObject({
      name: "churn",
      version: "1.0.0",
      status: "draft",
      metrics: { auc: 0.93 },
      tags: ["nightly", "eu"],
      artifact: { sha256: sha256(bytes), sizeBytes: bytes.length }
    })

    const second = await json([
      "models",
      "register",
      "--name",
      "churn",
      "--version",
      "1.1.0",
      "--algorithm",
      "xgboost",
      "--framework",
      "xgboost",
      "--parent",
      first.id
    ])
    expect(second.artifact).toBeNull()
    const uploaded = await json(["models", "upload", second.id, "--artifact", artifact])
    expect(uploaded.artifact.sha256).toBe(sha256(bytes))

    const listed = await json(["models", "list", "--name", "churn"])
    expect(listed.items.map((m: { version: string }) => m.version)).toEqual(["1.0.0", "1.1.0"])
    expect((await json(["models", "list", "--limit", "1"])).items).toHaveLength(1)
    const table = await ml(["models", "list", "--name", "churn"])
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+VERSION\s+STATUS/)
    expect(table.stdout).toContain(first.id)

    expect(await json(["models", "get", first.id])).toMatchObject({ id: first.id, version: "1.0.0" })

    for (const status of ["testing", "staging", "production"]) {
      expect((await json(["models", "promote", first.id, status, "--reason", `to ${status}`])).status).toBe(status)
    }
    expect((await json(["models", "production", "churn"])).id).toBe(first.id)
    expect((await json(["models", "production", "churn", "--at", new Date().toISOString()])).id).toBe(first.id)

    const history = await json(["models", "history", first.id])
    expect(history.items.map((e: { action: string }) => e.action)).toEqual([
      "registered",
      "artifact_uploaded",
      "promoted",
      "promoted",
      "promoted"
    ])
    expect(history.items[4]).toMatchObject({ from: "staging", to: "production", reason: "to production" })

    const out = path.join(work, "downloads", "copy.bin")
    fs.mkdirSync(path.dirname(out))
    fs.writeFileSync(out, "previous contents")
    const downloaded = await json(["models", "download", first.id, "--out", out])
    expect(downloaded).toMatchObject({ sha256: sha256(bytes), sizeBytes: bytes.length })
    expect(fs.readFileSync(out).equals(bytes)).toBe(true)
    expect(fs.readdirSync(path.dirname(out))).toEqual(["copy.bin"]) // no temporary file left behind

    expect((await json(["models", "archive", second.id, "--reason", "superseded"])).status).toBe("archived")
  })
})

describe("ml models search, tag, untag", () => {
  it("tags versions, searches them in order, and names a bad token", async () => {
    const register = async (version: string, auc: string) =>
      (await json([
        "models",
        "register",
        "--name",
        "scorer",
        "--version",
        version,
        "--algorithm",
        "a",
        "--framework",
        "f",
        "--metric",
        `auc=${auc}`
      ])).id as string
    const low = await register("1", "0.8")
    const high = await register("2", "0.95")
    const other = await register("3", "0.99")
    for (const id of [low, high]) {
      expect((await json(["models", "tag", id, "team", "risk"])).keyValueTags).toEqual({ team: "risk" })
    }
    await json(["models", "tag", other, "team", "growth"])
    const found = await json([
      "models",
      "search",
      "name = 'scorer' AND tags.team = 'risk'",
      "--order-by",
      "metrics.auc DESC"
    ])
    expect(found.items.map((m: { id: string }) => m.id)).toEqual([high, low])
    const limited = await json([
      "models",
      "search",
      "name = 'scorer'",
      "--order-by",
      "metrics.auc DESC",
      "--limit",
      "1"
    ])
    expect(limited.items.map((m: { id: string }) => m.id)).toEqual([other])
    expect((await json(["models", "untag", low, "team"])).keyValueTags).toEqual({})
    const table = await ml(["models", "search", "tags.team = 'risk'"])
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+VERSION\s+STATUS/)
    expect(table.stdout).toContain(high)
    expect(table.stdout).not.toContain(low)
    expectCleanError(await ml(["models", "search", "name = 'scorer' ANDD x"]), 5, "unexpected token 'ANDD' at 16")
  })
})

describe("ml experiments", () => {
  it("create, list, get, start, pause, resplit, retarget, results (table, JSON), complete, --watch", async () => {
    const register = async (version: string) =>
      (await json([
        "models",
        "register",
        "--name",
        "ranker",
        "--version",
        version,
        "--algorithm",
        "a",
        "--framework",
        "f"
      ]))
        .id as string
    const control = await register("1")
    const treatment = await register("2")
    const created = await json([
      "experiments",
      "create",
      "--id",
      "ranker-test",
      "--name",
      "ranker",
      "--metric",
      "conversion",
      "--control",
      control,
      "--treatment",
      treatment,
      "--min-samples",
      "50"
    ])
    expect(created).toMatchObject({ id: "ranker-test", status: "draft", targetMetric: "conversion" })
    expect(created.variants.map((v: { trafficPct: number }) => v.trafficPct)).toEqual([50, 50])
    const body = file(
      "experiment.json",
      JSON.stringify({ name: "from file", targetMetric: "ctr", variants: created.variants })
    )
    expect(await json(["experiments", "create", "--file", body, "--id", "from-file"])).toMatchObject({
      id: "from-file",
      name: "from file",
      targetMetric: "ctr"
    })
    expect((await json(["experiments", "list"])).items.map((e: { id: string }) => e.id).sort()).toEqual([
      "from-file",
      "ranker-test"
    ])
    expect((await json(["experiments", "get", "ranker-test"])).name).toBe("ranker")
    // Safe rollouts show in the text view: coverage, ramp and guardrails.
    const guardedBody = file(
      "guarded.json",
      JSON.stringify({
        name: "guarded",
        targetMetric: "ctr",
        variants: created.variants,
        guardrails: [{ metric: "latency_ms", direction: "increase" }],
        ramp: { steps: [0.05, 0.5], intervalMinutes: 30 }
      })
    )
    expect((await json(["experiments", "create", "--file", guardedBody, "--id", "guarded"])).coverage).toBe(0.05)
    const shown = (await ml(["experiments", "get", "guarded"])).stdout
    expect(shown).toContain("coverage: 5%")
    expect(shown).toContain("ramp: 5% -> 50% every 30 min")
    expect(shown).toContain("guardrails: latency_ms (increase is bad)")
    expect((await json(["experiments", "start", "ranker-test"])).status).toBe("running")
    expect((await json(["experiments", "pause", "ranker-test"])).status).toBe("paused")
    expect((await json(["experiments", "start", "ranker-test"])).status).toBe("running")
    const resplit = await json(["experiments", "resplit", "ranker-test", "--traffic", "60,40"])
    expect(resplit.variants.map((v: { trafficPct: number }) => v.trafficPct)).toEqual([60, 40])
    const retargeted = await json([
      "experiments",
      "retarget",
      "ranker-test",
      "--condition",
      `{"country":{"$in":["DE","AT"]}}`,
      "--metric-caps",
      `{"latency":{"upper":500}}`
    ])
    expect(retargeted).toMatchObject({
      condition: { country: { $in: ["DE", "AT"] } },
      metricCaps: { latency: { upper: 500 } },
      settingChanges: [{ condition: { country: { $in: ["DE", "AT"] } }, metricCaps: { latency: { upper: 500 } } }]
    })
    const untargeted = await json(["experiments", "retarget", "ranker-test", "--condition", "null"])
    expect(untargeted.condition).toBeUndefined()
    expect(untargeted.metricCaps).toEqual({ latency: { upper: 500 } })

    // Conversions 10% for the control, 40% for the treatment: a clear winner.
    const client = createClient({ baseUrl: server.url })
    await client.experiments.recordMetrics("ranker-test", [
      ...Array.from(
        { length: 200 },
        (_, i) => ({ modelId: control, metric: "conversion", value: i % 10 === 0 ? 1 : 0 })
      ),
      ...Array.from({ length: 200 }, (_, i) => ({ modelId: treatment, metric: "conversion", value: i % 5 < 2 ? 1 : 0 }))
    ])

    const results = await json(["experiments", "results", "ranker-test"])
    expect(results.decision).toMatchObject({ outcome: "winner", winnerModelId: treatment })
    const view = (await ml(["experiments", "results", "ranker-test"])).stdout
    const lines = view.split("\n")
    const controlRow = lines.find((l) => l.startsWith(control))!
    expect(controlRow).toMatch(/control\s+60%\s+0\s+200\s+0\.1\s+\[0\.\d+, 0\.\d+\]/)
    const comparison = lines.find((l) => l.startsWith(treatment) && l.includes("conversion"))!
    expect(comparison).toMatch(/\+300%\s+\[\+\d+(\.\d+)?%, \+\d+(\.\d+)?%\]/)
    expect(comparison).toContain("better")
    expect(view).toContain(`decision: winner (winner ${treatment})`)
    expect(view).toMatch(/reason: +\S/)

    expect((await json(["experiments", "complete", "ranker-test"])).status).toBe("completed")
    // --watch stops by itself once the experiment is completed.
    const watched = await ml(["experiments", "results", "ranker-test", "--watch", "--interval", "0.2"])
    expect(watched.code).toBe(0)
    expect(watched.stdout).toContain("experiment ranker-test (completed)")
  })

  it("create --feature-key and feature-key: the GrowthBook feature name; a clash exits 4", async () => {
    const register = async (version: string) =>
      (await json(["models", "register", "--name", "fk", "--version", version, "--algorithm", "a", "--framework", "f"]))
        .id as string
    const [control, treatment] = [await register("1"), await register("2")]
    const create = (id: string, ...extra: ReadonlyArray<string>) =>
      ml([
        "experiments",
        "create",
        "--id",
        id,
        "--name",
        "fk",
        "--metric",
        "ctr",
        "--control",
        control,
        "--treatment",
        treatment,
        ...extra,
        "--json"
      ])
    const first = await create("fk-first", "--feature-key", "fk-model")
    expect(JSON.parse(first.stdout).featureKey).toBe("fk-model")
    expect((await ml(["experiments", "get", "fk-first"])).stdout).toMatch(/featureKey: +fk-model/)
    expectCleanError(await create("fk-second", "--feature-key", "fk-model"), 4, "featureKey fk-model", "fk-first")
    expect((await create("fk-second")).code).toBe(0)
    expectCleanError(await ml(["experiments", "feature-key", "fk-second", "fk-model"]), 4, "featureKey fk-model")
    expect((await json(["experiments", "feature-key", "fk-second", "fk-model-2"])).featureKey).toBe("fk-model-2")
  })
})

describe("ml drift", () => {
  it("monitor create, list, get; baseline set --csv and --jsonl; record --csv; check; reports --since", async () => {
    const model =
      (await json(["models", "register", "--name", "fraud", "--version", "1", "--algorithm", "a", "--framework", "f"]))
        .id
    const since = new Date().toISOString()
    const monitor = await json([
      "drift",
      "monitor",
      "create",
      "--id",
      "fraud-inputs",
      "--model",
      model,
      "--feature",
      "amount",
      "--feature",
      "country:categorical",
      "--prediction",
      "score"
    ])
    expect(monitor.features).toEqual([
      { name: "amount", kind: "feature", type: "numeric" },
      { name: "country", kind: "feature", type: "categorical" },
      { name: "score", kind: "prediction", type: "numeric" }
    ])
    expect((await json(["drift", "monitor", "list"])).items.map((m: { id: string }) => m.id)).toEqual(["fraud-inputs"])
    expect((await json(["drift", "monitor", "get", "fraud-inputs"])).modelId).toBe(model)

    const rows = (shift: number, countries: ReadonlyArray<string>) =>
      "amount,country,score\n" +
      Array.from({ length: 300 }, (_, i) =>
        `${(i % 17) * 1.5 + shift},"${countries[i % countries.length]}",${(i % 7) / 7}`)
        .join("\n")
    const baseline = await json([
      "drift",
      "baseline",
      "set",
      "fraud-inputs",
      "--csv",
      file("base.csv", rows(0, ["de", "fr", "u,s"]))
    ])
    expect(baseline).toMatchObject({ rows: 300, features: ["amount", "country", "score"] })
    const jsonl = Array.from(
      { length: 300 },
      (_, i) => JSON.stringify({ amount: (i % 17) * 1.5, country: ["de", "fr"][i % 2], score: (i % 7) / 7 })
    )
    expect(
      (await json(["drift", "baseline", "set", "fraud-inputs", "--jsonl", file("base.jsonl", jsonl.join("\n"))])).rows
    )
      .toBe(300)

    expect(await json(["drift", "record", "fraud-inputs", "--csv", file("today.csv", rows(30, ["de", "it"]))])).toEqual(
      {
        monitorId: "fraud-inputs",
        rows: 300
      }
    )
    const report = await json(["drift", "check", "fraud-inputs"])
    const severity = Object.fromEntries(
      report.features.map((f: { feature: string; severity: string }) => [f.feature, f.severity])
    )
    expect(severity).toMatchObject({ amount: "critical", score: "none" })
    expect(report.features.find((f: { feature: string }) => f.feature === "amount").windowCount).toBe(300)

    // A file of more than one batch (10,000 values) arrives whole.
    await json(["drift", "monitor", "create", "--id", "big", "--model", model, "--feature", "x", "--window", "12000"])
    const big = file("big.csv", ["x", ...Array.from({ length: 12_000 }, (_, i) => String(i % 100))].join("\n"))
    await json(["drift", "baseline", "set", "big", "--csv", big])
    expect((await json(["drift", "record", "big", "--csv", big])).rows).toBe(12_000)
    expect((await json(["drift", "check", "big"])).features[0].windowCount).toBe(12_000)

    expect(await json(["drift", "report", report.id])).toEqual(report)
    const page = await ml(["drift", "report", report.id, "--html"])
    expect(page.code).toBe(0)
    expect(page.stdout).toMatch(/^<!doctype html>/u)
    expect(page.stdout).toContain(`<code>${report.id}</code>`)
    expect(page.stdout.match(/<svg /gu)).toHaveLength(3) // amount, country, score: each tested

    const reports = await json(["drift", "reports", "--monitor", "fraud-inputs", "--since", since])
    expect(reports.items.map((r: { id: string }) => r.id)).toContain(report.id)
    expect((await json(["drift", "reports", "--since", new Date(Date.now() + 3_600_000).toISOString()])).items).toEqual(
      []
    )
  })
})

describe("ml learner and pipelines", () => {
  it("learner init, then a pipeline: create, list, samples add --csv, update, status, predict, rollback", async () => {
    const state = path.join(work, "learner.json")
    const init = await ml([
      "learner",
      "init",
      "--kind",
      "logistic",
      "--features",
      "a,b",
      "--learning-rate",
      "0.1",
      "--out",
      state
    ])
    expect(init.code).toBe(0)
    const learner = JSON.parse(fs.readFileSync(state, "utf8"))
    expect(learner).toMatchObject({
      formatVersion: 1,
      config: {
        kind: "logistic",
        optimizer: { type: "sgd", learningRate: 0.1 },
        features: { type: "schema", names: ["a", "b"] }
      },
      weights: [0, 0]
    })
    const hashed = JSON.parse(
      (await ml(["learner", "init", "--kind", "linear", "--hashing", "4", "--optimizer", "ftrl"])).stdout
    )
    expect(hashed.config).toMatchObject({
      kind: "linear",
      optimizer: { type: "ftrl" },
      features: { type: "hashing", bits: 4 }
    })
    expect(hashed.weights).toHaveLength(16)
    // Format 2: an untrained 2^20-slot learner is its header, not a million zeros.
    const binary = path.join(work, "learner.bin")
    expect(
      (await ml(["learner", "init", "--kind", "logistic", "--hashing", "20", "--format", "2", "--out", binary])).code
    )
      .toBe(0)
    const bytes = new Uint8Array(fs.readFileSync(binary))
    expect(isBinaryLearnerState(bytes)).toBe(true)
    expect(bytes.length).toBeLessThan(400)
    const loaded = loadLearner(bytes)
    expect(loaded.config.features).toEqual({ type: "hashing", bits: 20 })
    expect(loaded.predict({ anything: 3 })).toBe(0.5)
    const rounded = path.join(work, "learner32.bin")
    const init32 = [
      "learner",
      "init",
      "--kind",
      "logistic",
      "--hashing",
      "8",
      "--format",
      "2",
      "--precision",
      "float32"
    ]
    expect((await ml([...init32, "--out", rounded])).code).toBe(0)
    expect(loadLearner(new Uint8Array(fs.readFileSync(rounded))).config.features).toEqual({ type: "hashing", bits: 8 })
    const jsonRounded = await ml(["learner", "init", "--kind", "logistic", "--hashing", "8", "--precision", "float32"])
    expect(jsonRounded.code).toBe(2)
    expect(jsonRounded.stderr).toContain("--precision needs --format 2")

    const model = await json([
      "models",
      "register",
      "--name",
      "online",
      "--version",
      "1",
      "--algorithm",
      "logistic_regression",
      "--framework",
      "ml-pipeline",
      "--artifact",
      state
    ])
    const created = await json([
      "pipelines",
      "create",
      "--id",
      "fraud-online",
      "--name",
      "fraud",
      "--model",
      model.id,
      "--strategy",
      "mini-batch",
      "--batch-size",
      "40",
      "--min-samples",
      "1",
      "--holdout",
      "0"
    ])
    expect(created).toMatchObject({ id: "fraud-online", kind: "logistic", strategy: "mini-batch", batchSize: 40 })
    expect(created.publish).toEqual({ precision: "float64" })
    const compact = await json([
      "pipelines",
      "create",
      "--id",
      "compact-online",
      "--name",
      "compact",
      "--model",
      model.id,
      "--publish-precision",
      "float32"
    ])
    expect(compact.publish).toEqual({ precision: "float32" })
    expect((await json(["pipelines", "list"])).items.map((p: { id: string }) => p.id).sort()).toEqual([
      "compact-online",
      "fraud-online"
    ])

    const sample = (i: number) => {
      const a = Math.sin(i * 1.7) * 2
      const b = Math.cos(i * 0.9) * 2
      return `s${i},${a},${b},${a + b > 0 ? 1 : 0}`
    }
    const csv = file(
      "samples.csv",
      ["id,a,b,clicked", ...Array.from({ length: 50 }, (_, i) => sample(i)), sample(0)].join("\n")
    )
    const added = await json([
      "pipelines",
      "samples",
      "add",
      "fraud-online",
      "--csv",
      csv,
      "--label",
      "clicked",
      "--id-column",
      "id"
    ])
    expect(added).toMatchObject({ samples: 51, added: 50, duplicates: 1 })
    expect(added.updates).toHaveLength(1)
    expect(added.updates[0]).toMatchObject({ accepted: true, samples: 50 })
    expect(await json(["pipelines", "update", "fraud-online"])).toEqual({ update: null }) // nothing buffered

    const more = file("more.csv", ["id,a,b,clicked", ...Array.from({ length: 5 }, (_, i) => sample(50 + i))].join("\n"))
    expect(
      await json([
        "pipelines",
        "samples",
        "add",
        "fraud-online",
        "--csv",
        more,
        "--label",
        "clicked",
        "--id-column",
        "id"
      ])
    )
      .toMatchObject({ added: 5, updates: [] })
    const update = await json(["pipelines", "update", "fraud-online"])
    expect(update.update).toMatchObject({ kind: "update", accepted: true, samples: 5 })
    const status = await json(["pipelines", "status", "fraud-online"])
    expect(status.counters).toMatchObject({ received: 56, duplicates: 1, processed: 55, buffered: 0 })
    const live = status.pipeline.liveModelId
    expect(live).not.toBe(model.id)

    const one = await json(["pipelines", "predict", "fraud-online", "--features", "a=1,b=1"])
    const many = await json(["pipelines", "predict", "fraud-online", "--csv", file("rows.csv", "a,b\n1,1\n-1,-1.5\n")])
    expect(many.predictions).toHaveLength(2)
    expect(many.predictions[0]).toBeCloseTo(one.prediction, 12)
    expect(one.prediction).toBeGreaterThan(0.5)
    expect(many.predictions[1]).toBeLessThan(0.5)

    const rollback = await json(["pipelines", "rollback", "fraud-online"])
    expect(rollback).toMatchObject({ kind: "rollback", previousModelId: live })
    expect((await json(["pipelines", "status", "fraud-online"])).pipeline.liveModelId).toBe(rollback.modelId)
  })
})

describe("ml keys", () => {
  it("create (the token once), list (never a token), revoke", async () => {
    const created = await json(["keys", "create", "--name", "ci", "--role", "editor", "--models", "fraud-*,churn"])
    expect(created.token).toMatch(/^mlk_/)
    expect(created.key).toMatchObject({ name: "ci", role: "editor", modelNames: ["fraud-*", "churn"] })
    const listed = await json(["keys", "list"])
    expect(listed.items.map((k: { id: string }) => k.id)).toContain(created.key.id)
    expect(JSON.stringify(listed)).not.toContain(created.token)
    expect(await json(["keys", "revoke", created.key.id])).toEqual({ revoked: created.key.id })
    expect((await json(["keys", "list"])).items.find((k: { id: string }) => k.id === created.key.id).revokedAt).not
      .toBeNull()
  })
})

describe("ml served", () => {
  it(
    "--experiment: the model a user got at a time, and why; a name never in production fails; bad input exits 2",
    async () => {
      const register = async (version: string) =>
        (await json([
          "models",
          "register",
          "--name",
          "served-cli",
          "--version",
          version,
          "--algorithm",
          "a",
          "--framework",
          "f"
        ]))
          .id as string
      const control = await register("1")
      const treatment = await register("2")
      const variants = JSON.stringify([{ modelId: control, isControl: true, trafficPct: 50 }, {
        modelId: treatment,
        isControl: false,
        trafficPct: 50
      }])
      const client = createClient({ baseUrl: server.url })
      const experiment = await client.experiments.create({
        name: "served-cli",
        targetMetric: "ctr",
        variants: JSON.parse(variants)
      })
      await client.experiments.start(experiment.id)
      const assigned = await client.experiments.getModelAssignment(experiment.id, "alice")
      const at = new Date(Date.now() + 1).toISOString()
      await new Promise((resolve) => setTimeout(resolve, 5))
      const served = await json(["served", "--user", "alice", "--at", at, "--experiment", experiment.id])
      expect(served).toMatchObject({ modelId: assigned.modelId, variant: assigned.variant, source: "sticky" })
      const text = await ml(["served", "--user", "alice", "--at", at, "--experiment", experiment.id])
      expect(text.stdout).toContain("source: sticky")
      expect(text.stdout).toContain(`served-cli ${assigned.variant === 0 ? "1" : "2"} (${assigned.modelId})`)

      const missing = await ml(["served", "--user", "alice", "--at", at, "--model", "served-cli"])
      expect(missing.code).not.toBe(0)
      expect((await ml(["served", "--user", "alice", "--at", "yesterday", "--experiment", experiment.id])).code).toBe(2)
      expect((await ml(["served", "--user", "alice", "--at", at])).code).toBe(2)
    },
    60_000
  )
})
