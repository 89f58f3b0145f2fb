// What the definition history costs a commit on Redis: the median latency of committing an
// experiment through the store (compare-and-set, history append and trim, one script) against the
// same compare-and-set without the history (the script commits used before), side by side in one
// run, with the history already full (MAX_DEFINITION_HISTORY entries, so every append also trims).
// Then the median latency of reading the kept history (1,000 entries), what GET /v1/served reads.
//
//   node bench/definition-history.mjs [commits]   (after a build; default 2000; Redis as for the tests)
import { RedisExperimentStore } from "@org/ml-adapter-redis"
import { ExperimentStore, MAX_DEFINITION_HISTORY } from "@org/ml-core"
import { sampleExperiment } from "@org/ml-core/testing"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { deleteKeysWithPrefix, median } from "./lib.mjs"

const commits = Number(process.argv[2] ?? 2000)
const redis = new Redis(process.env.ML_TEST_REDIS_URL ?? "redis://127.0.0.1:6379")
const prefix = `mlbench:history:${Date.now().toString(36)}:`
const store = RedisExperimentStore.make(redis, prefix)
const run = (effect) => Effect.runPromise(effect)

// The compare-and-set the store ran before the history (JsonDocuments.compareAndSet's script).
const plainCompareAndSet = `
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).revision ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`

try {
  const withHistory = sampleExperiment({ mode: "bandit" })
  const without = sampleExperiment({ mode: "bandit" })
  await run(store.insert(withHistory))
  await run(store.insert(without))
  const next = (experiment, i) => ({
    ...experiment,
    banditHistory: [{ at: experiment.updatedAt, weights: [(i % 100) / 100, 1 - (i % 100) / 100] }],
    updatedAt: new Date(Date.parse(experiment.updatedAt) + 1000).toISOString(),
    revision: experiment.revision + 1
  })
  let a = withHistory
  for (let i = 0; i < MAX_DEFINITION_HISTORY; i++) {
    const n = next(a, i)
    await run(store.commit(n, a.revision))
    a = n
  }
  let b = without
  const timed = { history: [], plain: [] }
  for (let i = 0; i < commits; i++) {
    // Alternated, so both see the same load.
    const na = next(a, i)
    let start = performance.now()
    await run(store.commit(na, a.revision))
    timed.history.push(performance.now() - start)
    a = na
    const nb = next(b, i)
    start = performance.now()
    const ok = await redis.eval(
      plainCompareAndSet,
      1,
      RedisExperimentStore.experimentKeys(prefix).experiment(b.id),
      JSON.stringify(nb),
      b.revision
    )
    timed.plain.push(performance.now() - start)
    if (ok !== 1) throw new Error("baseline commit refused")
    b = nb
  }
  const reads = []
  for (let i = 0; i < 200; i++) {
    const start = performance.now()
    const kept = await run(store.definitionHistory(a.id))
    reads.push(performance.now() - start)
    if (kept.length !== MAX_DEFINITION_HISTORY) throw new Error(`kept ${kept.length}`)
  }
  console.log(`commits: ${commits} each, history full (${MAX_DEFINITION_HISTORY} entries)`)
  console.log(`commit with history (append + trim): median ${median(timed.history).toFixed(3)} ms`)
  console.log(`plain compare-and-set (before):      median ${median(timed.plain).toFixed(3)} ms`)
  console.log(`ratio: ${(median(timed.history) / median(timed.plain)).toFixed(2)}`)
  console.log(
    `read the kept history (${MAX_DEFINITION_HISTORY} entries, decoded): median ${median(reads).toFixed(3)} ms`
  )
} finally {
  await deleteKeysWithPrefix(redis, prefix)
  await redis.quit()
}
