// The experiment the hot-path benchmarks and the profile drive: two registered models, a sticky
// A/B experiment between them, started. Shared by hot-paths.mjs and profile-hot-paths.mjs.
import { jsonPoster, seededUniform } from "./lib.mjs"

/** Registers two models on the server at `url` and starts a sticky experiment between them; returns it. */
export const startedExperiment = async (url) => {
  const post = jsonPoster(url)
  const models = []
  for (const version of ["1", "2"]) {
    models.push(await post("/v1/models", { name: "hot-bench", version, algorithm: "a", framework: "f" }))
  }
  const experiment = await post("/v1/experiments", {
    name: "hot-bench",
    targetMetric: "conversion",
    stickyAssignment: true,
    variants: models.map((m, i) => ({ modelId: m.id, isControl: i === 0, trafficPct: 50 }))
  })
  return post(`/v1/experiments/${experiment.id}/start`, {})
}

/** wrk Lua bodies: a new user per request (`run` keeps users of different runs apart), a metric observation. */
export const newUserBody = (run) => `'{"userId":"${run}-' .. counter .. '"}'`
export const metricBody = (experiment) =>
  `'{"modelId":"${experiment.variants[1].modelId}","metric":"conversion","value":' .. (counter % 7) .. '}'`

/** The drift monitor of the ingestion benchmarks: 4 numeric features and 1 categorical. */
export const monitorFeatures = [
  ...["amount", "age", "tenure", "score"].map((name) => ({ name, kind: "feature", type: "numeric" })),
  { name: "country", kind: "feature", type: "categorical" }
]

const uniform = seededUniform(7)
/** One observations request: 10 rows of the monitor's 5 features (fixed values). */
export const observationRows = Array.from({ length: 10 }, () => ({
  amount: Math.round(uniform() * 10_000) / 100,
  age: Math.round(18 + uniform() * 60),
  tenure: Math.round(uniform() * 1000) / 10,
  score: uniform(),
  country: ["DE", "FR", "US", "JP"][Math.floor(uniform() * 4)]
}))

/** A started drift monitor `id` with `monitorFeatures` on the server at `url`. */
export const createdMonitor = async (url, id) =>
  jsonPoster(url)("/v1/drift/monitors", { id, features: monitorFeatures, settings: { windowSize: 10_000 } })
