// The SDK in a browser page: local assignment of this visitor and a conversion metric sent in
// the background. Bundle with esbuild (`esbuild app.mjs --bundle --format=esm --outfile=app.js`)
// and open index.html?ml=<server URL>&experiment=<id>; the server must list this page's origin
// in ML_CORS_ORIGINS.
import { createClient } from "@org/ml-sdk"

const params = new URLSearchParams(location.search)
const experimentId = params.get("experiment")
const ml = createClient({ baseUrl: params.get("ml") ?? "http://127.0.0.1:8080" })
const local = ml.experiments.local({ flushIntervalMs: 1_000 })

// A visitor id kept in this browser, so the visitor keeps their model across visits.
const visitor = localStorage.getItem("visitor") ?? crypto.randomUUID()
localStorage.setItem("visitor", visitor)

await local.whenReady()
const { modelId } = local.assign(experimentId, visitor)
document.querySelector("#model").textContent = modelId
const convert = document.querySelector("#convert")
convert.disabled = false
convert.addEventListener("click", async () => {
  local.recordMetric(experimentId, modelId, "conversion", 1)
  await local.flush()
  document.querySelector("#status").textContent = "conversion recorded"
})
