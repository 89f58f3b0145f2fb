/**
 * Hand-written OpenAPI entries of the domains whose routes are not yet mounted from an endpoint
 * table (experiments, drift, pipelines), merged into the generated document so /openapi.json
 * keeps describing every route. Each domain's entries go away when its table replaces them.
 */
import type { LegacyContract } from "@org/ml-api"
import { CreatePipelineInput } from "@org/ml-core"

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (name: string) => ({ content: { "application/json": { schema: ref(name) } } })
const problems = (...statuses: Array<number>) =>
  Object.fromEntries(statuses.map((status) => [String(status), {
    description: "Problem details",
    content: { "application/problem+json": { schema: ref("Problem") } }
  }]))
const experimentParam = { name: "id", in: "path", required: true, schema: { type: "string" } }

type PathItems = Record<string, Record<string, Record<string, unknown>>>

/** Groups a domain's operations under its tag in the docs. */
const tagged = (tag: string, paths: PathItems): PathItems =>
  Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      Object.fromEntries(Object.entries(item).map(([method, op]) => [method, { tags: [tag], ...op }]))
    ])
  )

const pipelines: PathItems = {
  "/v1/pipelines": {
    post: {
      summary: "Create an online-learning pipeline for a registered learner model: { name, modelId, id?, strategy? " +
        "(incremental | mini-batch | periodic | adaptive), batchSize?, minSamples?, maxBufferSize?, " +
        "updateFrequencySeconds?, learningRate?, holdoutShare?, validationMetric?, degradationTolerance?, " +
        "monitorId? }",
      requestBody: { required: true, ...json("CreatePipelineInput") },
      responses: { "201": { description: "The pipeline" }, ...problems(400, 404, 409, 503) }
    },
    get: {
      summary: "List pipelines",
      responses: { "200": { description: "{ items: Pipeline[] }" }, ...problems(503) }
    }
  },
  "/v1/pipelines/{id}": {
    get: {
      summary: "Status: the pipeline, counters (received, duplicates, dropped, processed, buffered), progressive " +
        "metrics, update records",
      parameters: [experimentParam],
      responses: { "200": { description: "PipelineStatus" }, ...problems(404, 503) }
    }
  },
  "/v1/pipelines/{id}/samples": {
    post: {
      summary: "Add labelled samples: { samples: [{ sampleId, features: { name: number }, label, weight? }] }; " +
        "duplicates by sampleId are counted and ignored; may trigger an update",
      parameters: [experimentParam],
      responses: { "202": { description: "{ added, duplicates, dropped, update }" }, ...problems(400, 404, 503) }
    }
  },
  "/v1/pipelines/{id}/update": {
    post: {
      summary: "Update now from the buffered samples (validated, published only if not worse)",
      parameters: [experimentParam],
      responses: { "200": { description: "{ update: UpdateRecord | null }" }, ...problems(404, 503) }
    }
  },
  "/v1/pipelines/{id}/rollback": {
    post: {
      summary: "Serve a previous version again: { toModelId? } (default: the live version's parent)",
      parameters: [experimentParam],
      responses: { "200": { description: "UpdateRecord" }, ...problems(400, 404, 503) }
    }
  },
  "/v1/pipelines/{id}/updates": {
    get: {
      summary: "Update and rollback records, oldest first",
      parameters: [experimentParam],
      responses: { "200": { description: "{ items: UpdateRecord[] }" }, ...problems(404, 503) }
    }
  },
  "/v1/pipelines/{id}/predict": {
    post: {
      summary: "Predict with the live learner: { features: { name: number } } -> { prediction } or { rows: [...] } " +
        "-> { predictions }",
      parameters: [experimentParam],
      responses: { "200": { description: "{ predictions: number[] }" }, ...problems(400, 404, 503) }
    }
  }
}

export const legacyContract: LegacyContract = {
  paths: { ...tagged("Pipelines", pipelines) },
  schemas: { CreatePipelineInput }
}
