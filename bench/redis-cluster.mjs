// Redis Cluster against a single Redis, side by side in one run: the same store operations
// through the same adapters, on the shared Redis (unique prefix, its keys deleted afterwards) and
// on a local three-master cluster this script starts and stops (all on this machine).
//
//   node bench/redis-cluster.mjs   (after a build; needs redis-server, redis-cli and Redis at 6379)
//
// Operations, each 64 in flight: sticky assignments of new users spread over 12 experiments (one
// Lua script each), dated exposures (one script), drift window pushes of 100 values (one script)
// over 12 monitors, model registrations (one script, all in the registry's slot). Throughput is the
// median of 3 alternating rounds; the ratio is cluster / single.
import { RedisClient, RedisDriftStore, RedisExperimentStore, RedisModelStore } from "@org/ml-adapter-redis"
import { connectOrFail, deleteKeysWithPrefix, startLocalCluster, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { sampleEvent, sampleExperiment, sampleModel, sampleMonitor } from "@org/ml-core/testing"
import { Effect } from "effect"
import { median } from "./lib.mjs"

const inFlight = 64
const perRound = 4000
const entities = 12

const modes = async () => {
  const cluster = await startLocalCluster()
  const single = await connectOrFail()
  const clustered = await RedisClient.connect({ url: "", clusterNodes: cluster.nodes })
  const prefix = uniquePrefix("bench-cluster")
  return {
    list: [{ name: "single", redis: single }, { name: "cluster", redis: clustered }],
    close: async () => {
      await deleteKeysWithPrefix(single, prefix)
      single.disconnect()
      clustered.disconnect()
      await cluster.stop()
    },
    prefix
  }
}

const run = (effect) => Effect.runPromise(effect)

/** Runs `op(i)` for i < count with `inFlight` at a time; answers operations per second. */
const throughput = async (count, op) => {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await op(next++)
  }))
  return count / ((performance.now() - started) / 1000)
}

const setup = async ({ redis }, prefix) => {
  const experiments = RedisExperimentStore.make(redis, prefix)
  const drift = RedisDriftStore.make(redis, prefix)
  const models = RedisModelStore.make(redis, prefix)
  const experimentIds = []
  const monitorIds = []
  for (let i = 0; i < entities; i++) {
    const experiment = sampleExperiment({ id: `${prefix.length}-exp-${i}-${Math.random().toString(36).slice(2)}` })
    await run(experiments.insert(experiment))
    experimentIds.push(experiment)
    const monitor = sampleMonitor({ id: `mon-${i}-${Math.random().toString(36).slice(2)}` })
    await run(drift.insertMonitor(monitor))
    monitorIds.push(monitor.id)
  }
  return { experiments, drift, models, experimentIds, monitorIds }
}

const operations = {
  "sticky assignment (new user)": (s, round) => (i) => {
    const experiment = s.experimentIds[i % entities]
    return run(s.experiments.assignIfAbsent({
      experimentId: experiment.id,
      userId: `u-${round}-${i}`,
      variant: i % 2,
      modelId: experiment.variants[i % 2].modelId,
      at: new Date().toISOString()
    }))
  },
  "dated exposures": (s) => (i) =>
    run(s.experiments.addExposures(s.experimentIds[i % entities].id, [1, 1], "2026-01-01")),
  "drift window push (100 values)": (s) => {
    const values = Array.from({ length: 100 }, (_, v) => v / 100)
    return (i) => run(s.drift.pushWindows(s.monitorIds[i % entities], { age: values }, 1000))
  },
  "model registration": (s, round) => (i) => {
    const model = sampleModel({
      id: `m${round}x${i}x${Math.random().toString(36).slice(2, 8)}`,
      version: `${round}.${i}`
    })
    return run(s.models.insert(model, sampleEvent(model)))
  }
}

const { list, close, prefix } = await modes()
try {
  const stores = new Map()
  for (const mode of list) stores.set(mode.name, await setup(mode, prefix))
  const results = {}
  for (const [name, op] of Object.entries(operations)) {
    results[name] = { single: [], cluster: [] }
    for (let round = 0; round < 3; round++) {
      for (const mode of list) {
        results[name][mode.name].push(await throughput(perRound, op(stores.get(mode.name), `${mode.name}${round}`)))
      }
    }
  }
  console.log(
    `Redis Cluster (3 masters, this machine) vs single Redis; ${inFlight} in flight, ${perRound} ops x 3 rounds`
  )
  console.log("operation".padEnd(34), "single ops/s".padStart(14), "cluster ops/s".padStart(14), "ratio".padStart(7))
  for (const [name, { single, cluster }] of Object.entries(results)) {
    const [a, b] = [median(single), median(cluster)]
    console.log(name.padEnd(34), a.toFixed(0).padStart(14), b.toFixed(0).padStart(14), (b / a).toFixed(2).padStart(7))
  }
} finally {
  await close()
}
