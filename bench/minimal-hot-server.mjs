// The minimal equivalent of the server's hot routes, the baseline of hot-paths.mjs: node:http and
// ioredis, the experiment definition read once and kept, the body read and JSON.parsed, and the
// very scripts (EVALSHA) and argument layout the Redis adapter uses, with no framework, no
// validation beyond what the storage work needs, no Effect. Started as a child process:
//
//   REDIS_URL=... PREFIX=... EXPERIMENT_ID=... node bench/minimal-hot-server.mjs
//
// POST /assign {"userId"}: the sticky assignment (set if absent, exposure counted when created).
// POST /metrics {"modelId","metric","value"}: the observation merged into its summary.
import { RedisExperimentStore } from "@org/ml-adapter-redis"
import { addValue, emptySummary, ExperimentStore, makeAssigner } from "@org/ml-core"
import { Redis } from "ioredis"
import { createHash } from "node:crypto"
import { createServer } from "node:http"

const { EXPERIMENT_ID: id, PREFIX: prefix, REDIS_URL: redisUrl } = process.env
const redis = new Redis(redisUrl)
const keys = RedisExperimentStore.experimentKeys(prefix)
const { assign, mergeMetrics } = RedisExperimentStore.hotPathScripts

// The cached definition and the SHA-1 the scripts check it by.
const text = await redis.get(keys.experiment(id))
const sha = createHash("sha1").update(text).digest("hex")
const experiment = JSON.parse(text)
const bucket = makeAssigner(experiment)
const variantOf = new Map(experiment.variants.map((v, i) => [v.modelId, i]))
const exposureKeys = [keys.experiment(id), keys.exposures(id), keys.exposureDays(id)]

const evalsha = (script, scriptKeys, args) => redis.evalsha(script.sha, scriptKeys.length, ...scriptKeys, ...args)
// Load both scripts once, as the adapter's first NOSCRIPT would.
await redis.script("LOAD", assign.text)
await redis.script("LOAD", mergeMetrics.text)

const readJson = (req) =>
  new Promise((resolve, reject) => {
    const chunks = []
    req.on("data", (c) => chunks.push(c))
    req.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))))
    req.on("error", reject)
  })

const answer = (res, status, body) => {
  const json = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) })
  res.end(json)
}

const routes = {
  "/assign": async ({ userId }) => {
    const variant = bucket(userId)
    const at = new Date().toISOString()
    const modelId = experiment.variants[variant].modelId
    const assignment = JSON.stringify({ experimentId: id, userId, variant, modelId, at })
    const [, [stored]] = await evalsha(
      assign,
      [...exposureKeys, keys.assignment(id, userId)],
      [sha, at.slice(0, 10), ExperimentStore.MAX_EXPOSURE_DAYS, experiment.variants.length, variant, assignment]
    )
    const winner = stored === 1 ? { variant, modelId } : JSON.parse(stored)
    return [200, { experimentId: id, userId, variant: winner.variant, modelId: winner.modelId, inExperiment: true }]
  },
  "/metrics": async ({ metric, modelId, value }) => {
    const s = addValue(emptySummary, value)
    const summary = `${s.count}|${s.shift}|${s.shiftedMean}|${s.m2}|${s.min}|${s.max}`
    await evalsha(mergeMetrics, [keys.experiment(id), keys.metrics(id)], [
      sha,
      `${variantOf.get(modelId)}:${metric}`,
      summary
    ])
    return [202, { recorded: 1 }]
  }
}

const server = createServer(async (req, res) => {
  try {
    const [status, body] = await routes[req.url](await readJson(req))
    answer(res, status, body)
  } catch (error) {
    answer(res, 500, { error: String(error) })
  }
})
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`))
process.on("SIGTERM", () => server.close(() => redis.quit().then(() => process.exit(0))))
