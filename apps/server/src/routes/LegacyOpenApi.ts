/**
 * Hand-written OpenAPI entries of the domains whose routes are not yet mounted from an endpoint
 * table (experiments, drift, pipelines), merged into the generated document so /openapi.json
 * keeps describing every route. Each domain's entries go away when its table replaces them.
 */
import type { LegacyContract } from "@org/ml-api"
import { CreateExperimentInput, CreatePipelineInput, Experiment } from "@org/ml-core"

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

const experiments: PathItems = {
  "/v1/experiments": {
    post: {
      summary: "Create an A/B test (or bandit) between registry models (status draft)",
      requestBody: { required: true, ...json("CreateExperimentInput") },
      responses: { "201": { description: "Created", ...json("Experiment") }, ...problems(400, 409, 503) }
    },
    get: {
      summary: "List experiments",
      responses: { "200": { description: "{ items: Experiment[] }" }, ...problems(503) }
    }
  },
  "/v1/experiments/{id}": {
    get: {
      summary: "Get an experiment",
      parameters: [experimentParam],
      responses: { "200": { description: "The experiment", ...json("Experiment") }, ...problems(404, 503) }
    },
    patch: {
      summary: "Re-split traffic ({trafficPct: number[]}, recorded; sticky users keep their model) or change the " +
        "description",
      parameters: [experimentParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: {
                trafficPct: { type: "array", items: { type: "number" } },
                description: { type: "string" }
              },
              additionalProperties: false
            }
          }
        }
      },
      responses: { "200": { description: "Updated", ...json("Experiment") }, ...problems(400, 404, 409, 503) }
    }
  },
  "/v1/experiments/{id}/start": {
    post: {
      summary: "Start (or resume) an experiment",
      parameters: [experimentParam],
      responses: { "200": { description: "Running", ...json("Experiment") }, ...problems(404, 409, 503) }
    }
  },
  "/v1/experiments/{id}/pause": {
    post: {
      summary: "Pause: everyone gets the control",
      parameters: [experimentParam],
      responses: { "200": { description: "Paused", ...json("Experiment") }, ...problems(404, 409, 503) }
    }
  },
  "/v1/experiments/{id}/complete": {
    post: {
      summary: "Complete, recording the decision; {promoteWinner: true} promotes the winner to production",
      parameters: [experimentParam],
      responses: { "200": { description: "Completed", ...json("Experiment") }, ...problems(400, 404, 409, 503) }
    }
  },
  "/v1/experiments/{id}/reweight": {
    post: {
      summary: "Recompute bandit weights now (Thompson sampling)",
      parameters: [experimentParam],
      responses: {
        "200": { description: "Experiment with banditHistory", ...json("Experiment") },
        ...problems(404, 409, 503)
      }
    }
  },
  "/v1/experiments/{id}/assignments": {
    post: {
      summary: "Assign a user ({userId}) or many ({userIds}) to a model",
      parameters: [experimentParam],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              oneOf: [{ type: "object", required: ["userId"], properties: { userId: { type: "string" } } }, {
                type: "object",
                required: ["userIds"],
                properties: { userIds: { type: "array", items: { type: "string" } } }
              }]
            }
          }
        }
      },
      responses: {
        "200": { description: "{modelId, variant, inExperiment, sticky} or {items: [...]}" },
        ...problems(400, 404, 503)
      }
    }
  },
  "/v1/experiments/{id}/metrics": {
    post: {
      summary: "Record one observation ({modelId, metric, value}) or many ({observations: [...]})",
      parameters: [experimentParam],
      responses: { "202": { description: "{recorded: n}" }, ...problems(400, 404, 409, 503) }
    }
  },
  "/v1/experiments/{id}/exposures": {
    post: {
      summary: "Report exposures counted client-side (SDK local evaluation): {exposures: [{modelId, count}]}",
      parameters: [experimentParam],
      responses: { "202": { description: "{recorded: n}" }, ...problems(400, 404, 503) }
    }
  },
  "/v1/experiments/{id}/results": {
    get: {
      summary: "Per-variant statistics, comparisons, SRM check and decision",
      parameters: [experimentParam],
      responses: { "200": { description: "Results" }, ...problems(404, 503) }
    }
  }
}

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
  paths: { ...tagged("Experiments", experiments), ...tagged("Pipelines", pipelines) },
  schemas: { Experiment, CreateExperimentInput, CreatePipelineInput }
}
