// Control characters, bidi controls and over-long text are refused with a 400 naming the field in
// every identifier-like free text a request carries, beyond the registry's (audit-identity.test.ts).
import { afterAll, describe, expect, it } from "vitest"
import { json, makeTestApp, metadata } from "./helpers.js"

const t = await makeTestApp({ ML_WEBHOOK_ALLOW_PRIVATE: "true" })
afterAll(t.close)

interface Problem {
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

const modelId = "01J9Z8K2W4X6Y8A0B2C4D6E8FG"
const pipeline = (fields: object) => ({ name: "p", modelId, ...fields })
const monitor = (fields: object) => ({ features: [{ name: "amount", kind: "feature", type: "numeric" }], ...fields })
const webhook = (fields: object) => ({
  url: "http://127.0.0.1:9/hook",
  secret: "a-secret-of-sixteen-or-more",
  ...fields
})
const experiment = (fields: object) => ({
  name: "e",
  targetMetric: "conversion",
  variants: [{ modelId, isControl: true, trafficPct: 100 }],
  ...fields
})

describe("free text in requests", () => {
  it.each([
    ["a pipeline name's newline", "/v1/pipelines", pipeline({ name: "online\nfraud" }), "name", "control"],
    ["a pipeline name's override", "/v1/pipelines", pipeline({ name: "evil\u202Egnp" }), "name", "control"],
    ["a pipeline name's length", "/v1/pipelines", pipeline({ name: "p".repeat(129) }), "name", "128"],
    ["a pipeline's model id", "/v1/pipelines", pipeline({ modelId: "m".repeat(5000) }), "modelId", "model id"],
    ["a pipeline's monitor id", "/v1/pipelines", pipeline({ monitorId: "mon\u0000" }), "monitorId", "monitor id"],
    ["a monitor's model id", "/v1/drift/monitors", monitor({ modelId: "x\u2066" }), "modelId", "model id"],
    ["an experiment seed's newline", "/v1/experiments", experiment({ seed: "s\r\n" }), "seed", "control"],
    ["a webhook URL's newline", "/v1/drift/webhooks", webhook({ url: "http://127.0.0.1:9/a\nb" }), "url", "control"],
    ["a webhook URL's length", "/v1/drift/webhooks", webhook({ url: `http://h/${"a".repeat(2048)}` }), "url", "2048"],
    ["a webhook secret's length", "/v1/drift/webhooks", webhook({ secret: "s".repeat(1025) }), "secret", "1024"],
    ["an assignment user id", "/v1/experiments/e/assignments", { userId: "u\u0085" }, "userId", "control"],
    [
      "a model's dataset",
      "/v1/models",
      metadata({ training: { dataset: "s3://a\nb" } }),
      "training.dataset",
      "control"
    ],
    ["a parameter value", "/v1/models", metadata({ parameters: { objective: "x\u202E" } }), "parameters", "control"],
    [
      "a parameter value's length",
      "/v1/models",
      metadata({ parameters: { p: "v".repeat(1025) } }),
      "parameters",
      "1024"
    ]
  ])("refuses %s with a 400 naming the field", async (_label, path, body, field, limit) => {
    const before = await t.snapshot()
    const response = await t.app.request(path, json(body))
    const text = await response.text()
    expect(response.status, text).toBe(400)
    const problem = JSON.parse(text) as Problem
    expect(problem.errors?.map((e) => e.path).join(" "), text).toContain(field)
    expect(text).toContain(limit)
    expect(await t.snapshot()).toEqual(before)
  })
})
