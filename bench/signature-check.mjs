// The cost of holding observations to a model signature (Observations.observationIssues), in
// process: one batch of 10 rows x 5 features checked against a monitor without a signature and
// against the same monitor with one (ranges, an integer column, a category list), compiled once.
//
//   node bench/signature-check.mjs     (after a build)
import { defaultMonitorSettings, observationIssues } from "@org/ml-core"

const features = [
  ...["amount", "age", "tenure", "score"].map((name) => ({ name, kind: "feature", type: "numeric" })),
  { name: "country", kind: "feature", type: "categorical" }
]
const unsigned = {
  id: "m",
  modelId: null,
  features,
  settings: defaultMonitorSettings,
  createdAt: new Date().toISOString()
}
const signed = {
  ...unsigned,
  signature: {
    inputs: [
      { name: "amount", type: "number", range: [0, 1e6] },
      { name: "age", type: "integer", range: [0, 130] },
      { name: "tenure", type: "number" },
      { name: "score", type: "number", range: [0, 1] },
      { name: "country", type: "category", categories: ["DE", "FR", "US", "GB", "IT"] }
    ]
  }
}
const values = { amount: [], age: [], tenure: [], score: [], country: [] }
for (let i = 0; i < 10; i++) {
  values.amount.push(100 + i)
  values.age.push(30 + i)
  values.tenure.push(i / 3)
  values.score.push(i / 10)
  values.country.push(["DE", "FR", "US"][i % 3])
}
const path = (feature, index) => [feature, index]
const microsPerBatch = (monitor) => {
  const n = 300_000
  for (let i = 0; i < 20_000; i++) observationIssues(monitor, values, path)
  const started = performance.now()
  for (let i = 0; i < n; i++) observationIssues(monitor, values, path)
  return ((performance.now() - started) * 1000) / n
}
for (let round = 0; round < 3; round++) {
  console.log(
    `10 rows x 5 features: without a signature ${microsPerBatch(unsigned).toFixed(2)} us/batch, ` +
      `with one ${microsPerBatch(signed).toFixed(2)} us/batch`
  )
}
