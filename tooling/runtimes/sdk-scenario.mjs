// One pass over the SDK's client against a real server, summarized without ids or times so the
// summaries of different runtimes compare equal: registry (register, upload, verified download,
// promote, production lookup), typed errors, experiments (server and local assignment, metrics,
// results) and drift (buffered rows, a check). The cross-runtime test runs it in Node, Deno, Bun
// and workerd against one server, each with its own name prefix.
import { createClient, InvalidTransitionError, MonitorNotFoundError, ValidationError } from "@org/ml-sdk"

const errorName = async (promise) => {
  try {
    await promise
    return "none"
  } catch (error) {
    if (error instanceof ValidationError) return `ValidationError ${error.status}`
    if (error instanceof InvalidTransitionError) return `InvalidTransitionError ${error.status}`
    if (error instanceof MonitorNotFoundError) return `MonitorNotFoundError ${error.status}`
    return `other: ${String(error)}`
  }
}

export const sdkScenario = async (baseUrl, prefix) => {
  const ml = createClient({ baseUrl })
  const name = `${prefix}-ranker`
  const artifact = new Uint8Array(200_000).map((_, i) => (i * 31) % 251)
  const models = []
  for (const version of ["1.0.0", "1.1.0"]) {
    const model = await ml.registry.registerModel({ name, version, algorithm: "gbm", framework: "lightgbm" }, artifact)
    models.push(model)
  }
  const download = await ml.registry.downloadArtifact(models[0].id)
  const downloaded = await download.bytes()
  const sameBytes = downloaded.length === artifact.length && downloaded.every((b, i) => b === artifact[i])
  const skipToProduction = await errorName(ml.registry.promoteModel(models[0].id, "production"))
  for (const model of models) await ml.registry.promoteModel(model.id, "testing")
  await ml.registry.promoteModel(models[1].id, "staging")
  await ml.registry.promoteModel(models[1].id, "production")
  const production = await ml.registry.getProduction(name)

  const experiment = await ml.experiments.create({
    name,
    targetMetric: "ctr",
    variants: [
      { modelId: models[0].id, isControl: true, trafficPct: 30 },
      { modelId: models[1].id, isControl: false, trafficPct: 70 }
    ]
  })
  await ml.experiments.start(experiment.id)
  const users = Array.from({ length: 300 }, (_, i) => `user-${i}`)
  const fromServer = await ml.experiments.getModelAssignments(experiment.id, users)
  const local = ml.experiments.local({ refreshIntervalMs: 60_000, flushIntervalMs: 60_000 })
  await local.whenReady()
  const locally = users.map((u) => local.assign(experiment.id, u))
  for (const [i, a] of locally.entries()) local.recordMetric(experiment.id, a.modelId, "ctr", i % 4 === 0 ? 1 : 0)
  await local.close()
  const results = await ml.experiments.getExperimentResults(experiment.id)
  const badMetric = await errorName(ml.experiments.recordMetric(experiment.id, models[0].id, "ctr", Number.NaN))

  const monitorId = `${prefix}-monitor`
  await ml.drift.createMonitor({ id: monitorId, features: [{ name: "x", kind: "feature", type: "numeric" }] })
  await ml.drift.setBaseline(monitorId, { x: Array.from({ length: 300 }, (_, i) => i % 30) })
  for (let i = 0; i < 300; i++) ml.drift.recordRow(monitorId, { x: 100 + (i % 30) })
  await ml.drift.close()
  const report = await ml.drift.check(monitorId)
  const missing = await errorName(ml.drift.getMonitor(`${prefix}-absent`))

  return {
    sameBytes,
    skipToProduction,
    productionVersion: production.version,
    // Each run's experiment has its own random seed, so the split itself differs between runs.
    bothVariantsServed: new Set(fromServer.map((a) => a.modelId)).size === 2,
    localEqualsServer: locally.every((a, i) => a.modelId === fromServer[i].modelId),
    metrics: results.variants.reduce((sum, v) => sum + (v.metrics.ctr?.n ?? 0), 0),
    exposures: results.variants.reduce((sum, v) => sum + v.exposures, 0),
    badMetric,
    drift: report.features.map((f) => `${f.feature} ${f.severity} ${f.windowCount}`),
    missing
  }
}
