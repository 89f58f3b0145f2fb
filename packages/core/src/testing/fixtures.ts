/** Builders of valid domain values for contract suites and tests. */
import type { AuditEvent } from "../registry/AuditEvent.js"
import type { Model } from "../registry/Model.js"
import type { RegisteredModel } from "../registry/RegisteredModel.js"
import { makeUlid } from "../shared/Ulid.js"

let clock = Date.UTC(2026, 0, 1)

export const sampleModel = (overrides: Partial<Model> = {}): Model => {
  const at = new Date(clock++).toISOString()
  return {
    id: makeUlid(clock),
    name: "churn",
    version: `v${clock}`,
    algorithm: "logistic_regression",
    framework: "sklearn",
    description: "",
    status: "draft",
    metrics: { auc: 0.91 },
    parameters: { C: 1, penalty: "l2", fit_intercept: true },
    training: { dataset: "s3://bucket/churn.parquet", sampleCount: 1000 },
    tags: ["team-a"],
    artifact: null,
    createdAt: at,
    updatedAt: at,
    createdBy: "alice",
    parentModelId: null,
    revision: 1,
    ...overrides
  }
}

export const sampleEvent = (model: Model, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  at: model.updatedAt,
  modelId: model.id,
  name: model.name,
  version: model.version,
  action: "registered",
  actor: "alice",
  from: null,
  to: model.status,
  reason: null,
  ...overrides
})

export const sampleRegisteredModel = (overrides: Partial<RegisteredModel> = {}): RegisteredModel => ({
  name: "churn",
  description: "",
  owner: "alice",
  tags: { team: "a" },
  protectedAliases: [],
  aliases: {},
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  revision: 1,
  ...overrides
})

export const streamOf = (chunks: ReadonlyArray<Uint8Array>, failAfter?: number): ReadableStream<Uint8Array> => {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAfter !== undefined && index === failAfter) {
        controller.error(new Error("client disconnected"))
        return
      }
      const chunk = chunks[index++]
      if (chunk === undefined) controller.close()
      else controller.enqueue(chunk)
    }
  })
}

export const readAll = async (stream: ReadableStream<Uint8Array>): Promise<Uint8Array> =>
  new Uint8Array(await new Response(stream).arrayBuffer())

export const randomBytes = (size: number): Uint8Array => {
  const out = new Uint8Array(size)
  for (let offset = 0; offset < size; offset += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(size, offset + 65536)))
  }
  return out
}
