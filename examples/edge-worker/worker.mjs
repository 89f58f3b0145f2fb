// A Cloudflare-style worker (module syntax) that assigns users locally with the SDK and reports
// exposures, a metric and a drift row in batches. Bindings (wrangler.toml [vars] or workerd):
// ML_URL, ML_TOKEN (optional), EXPERIMENT_ID, MONITOR_ID.
//
//   GET /?user=u1&country=DE&score=0.7  ->  {"modelId": "...", "inExperiment": true}
import { createClient } from "@org/ml-sdk"

// Made on the first request, not at the module's top level: workers may not start timers or
// draw random values while the module loads.
let pipeline

const connect = (env) => {
  const ml = createClient({ baseUrl: env.ML_URL, ...(env.ML_TOKEN ? { token: env.ML_TOKEN } : {}) })
  // Long intervals: each request hands its own flush to ctx.waitUntil instead.
  const local = ml.experiments.local({ refreshIntervalMs: 60_000, flushIntervalMs: 60_000 })
  return { ml, local }
}

export default {
  async fetch(request, env, ctx) {
    pipeline ??= connect(env)
    const { local, ml } = pipeline
    await local.whenReady()
    const url = new URL(request.url)
    const user = url.searchParams.get("user")
    if (user === null) return Response.json({ error: "user is required" }, { status: 400 })
    const country = url.searchParams.get("country")
    const { inExperiment, modelId } = local.assign(env.EXPERIMENT_ID, user, country ? { country } : {})
    const score = Number(url.searchParams.get("score") ?? "0")
    local.recordMetric(env.EXPERIMENT_ID, modelId, "score", score)
    ml.drift.recordRow(env.MONITOR_ID, { score })
    // The answer goes out now; the batches are sent after it, while the worker is kept alive.
    ctx.waitUntil(Promise.all([local.flush(), ml.drift.flush()]))
    return Response.json({ modelId, inExperiment })
  }
}
