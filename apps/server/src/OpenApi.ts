/**
 * The OpenAPI 3.1 document, generated from the same Effect schemas the handlers decode with,
 * so the published contract cannot drift from what the server accepts and returns.
 */
import {
  AuditEvent,
  CreateExperimentInput,
  CreateMonitorInput,
  CreatePipelineInput,
  Experiment,
  ListModelsQuery,
  Model,
  ModelPage,
  PromoteModelInput,
  RegisterModelInput,
  UpdateModelInput
} from "@org/ml-core"
import { Schema } from "effect"

/** Objects with declared properties are closed: the server rejects unknown fields (400). */
const closeObjects = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(closeObjects)
  if (typeof node !== "object" || node === null) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = closeObjects(value)
  if ("properties" in out && out.additionalProperties === true) out.additionalProperties = false
  return out
}

const jsonSchema = (schema: Schema.Top) => {
  const document = Schema.toJsonSchemaDocument(schema)
  return {
    schema: closeObjects(document.schema),
    definitions: closeObjects(document.definitions) as Record<string, unknown>
  }
}

const problemSchema = {
  type: "object",
  description: "RFC 9457 problem details. `code` is the error tag; other fields depend on it (e.g. `errors` for 400).",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    detail: { type: "string" },
    instance: { type: "string" },
    code: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } }
    }
  },
  additionalProperties: true
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (name: string) => ({ content: { "application/json": { schema: ref(name) } } })
const problems = (...statuses: Array<number>) =>
  Object.fromEntries(statuses.map((status) => [String(status), {
    description: "Problem details",
    content: { "application/problem+json": { schema: ref("Problem") } }
  }]))
const experimentParam = { name: "id", in: "path", required: true, schema: { type: "string" } }
const idParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$" }
}

export const makeOpenApi = () => {
  const components: Record<string, unknown> = { Problem: problemSchema }
  const schemas = {
    Model,
    RegisterModelInput,
    UpdateModelInput,
    PromoteModelInput,
    AuditEvent,
    ModelPage,
    Experiment,
    CreateExperimentInput,
    CreateMonitorInput,
    CreatePipelineInput
  }
  for (const [name, schema] of Object.entries(schemas)) {
    const { schema: body, definitions } = jsonSchema(schema as Schema.Top)
    components[name] = body
    Object.assign(components, definitions)
  }
  const query = jsonSchema(ListModelsQuery as Schema.Top).schema as { properties: Record<string, unknown> }
  const listParams = Object.entries(query.properties).map(([name, schema]) => ({
    name,
    in: "query",
    required: false,
    schema
  }))

  return {
    openapi: "3.1.0",
    info: {
      title: "ML Pipeline API",
      version: "0.1.0",
      description: "Model registry with lifecycle, integrity checks and audit trail. Errors are RFC 9457 problem+json."
    },
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Required when the server sets ML_API_TOKEN." }
      }
    },
    security: [{}, { bearer: [] }],
    paths: {
      "/v1/models": {
        post: {
          summary: "Register a model version (status draft)",
          requestBody: { required: true, ...json("RegisterModelInput") },
          responses: { "201": { description: "Registered", ...json("Model") }, ...problems(400, 404, 409, 415, 503) }
        },
        get: {
          summary: "List and search models (ascending by id, cursor pagination)",
          parameters: listParams,
          responses: { "200": { description: "A page of models", ...json("ModelPage") }, ...problems(400, 503) }
        }
      },
      "/v1/models/{id}": {
        get: {
          summary: "Get a model",
          parameters: [idParam],
          responses: { "200": { description: "The model", ...json("Model") }, ...problems(400, 404, 503) }
        },
        patch: {
          summary: "Update description, tags or metrics (audited; identity fields are immutable)",
          parameters: [idParam],
          requestBody: { required: true, ...json("UpdateModelInput") },
          responses: { "200": { description: "Updated", ...json("Model") }, ...problems(400, 404, 503) }
        }
      },
      "/v1/models/{id}/artifact": {
        put: {
          summary: "Upload the artifact (raw bytes, streamed; once per model)",
          parameters: [
            idParam,
            {
              name: "x-artifact-sha256",
              in: "header",
              required: false,
              schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
              description: "Expected SHA-256 (hex); a mismatch stores nothing."
            },
            {
              name: "content-digest",
              in: "header",
              required: false,
              schema: { type: "string" },
              description: "RFC 9530 form of the expected digest: sha-256=:base64:"
            }
          ],
          requestBody: {
            required: true,
            content: {
              "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } }
            }
          },
          responses: { "200": { description: "Stored", ...json("Model") }, ...problems(400, 404, 409, 413, 422, 503) }
        },
        get: {
          summary: "Download the artifact (re-verified against its SHA-256 before serving)",
          parameters: [idParam],
          responses: {
            "200": {
              description: "Artifact bytes",
              content: {
                "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } }
              }
            },
            ...problems(400, 404, 409, 422, 503)
          }
        }
      },
      "/v1/models/{id}/promote": {
        post: {
          summary: "Move a model through its lifecycle",
          parameters: [idParam],
          requestBody: { required: true, ...json("PromoteModelInput") },
          responses: { "200": { description: "Promoted", ...json("Model") }, ...problems(400, 404, 409, 503) }
        }
      },
      "/v1/models/{id}/history": {
        get: {
          summary: "Audit trail of a model",
          parameters: [idParam],
          responses: {
            "200": {
              description: "Events, oldest first",
              content: { "application/json": { schema: { type: "array", items: ref("AuditEvent") } } }
            },
            ...problems(400, 404, 503)
          }
        }
      },
      "/v1/registry/{name}/production": {
        get: {
          summary: "The production version of a name, now or at a past instant",
          parameters: [
            { name: "name", in: "path", required: true, schema: { type: "string" } },
            { name: "at", in: "query", required: false, schema: { type: "string", format: "date-time" } }
          ],
          responses: { "200": { description: "The model", ...json("Model") }, ...problems(400, 404, 503) }
        }
      },
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
          summary:
            "Re-split traffic ({trafficPct: number[]}, recorded; sticky users keep their model) or change the description",
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
      },
      "/v1/drift/monitors": {
        post: {
          summary: "Create a drift monitor for a model's features and predictions",
          requestBody: { required: true, ...json("CreateMonitorInput") },
          responses: { "201": { description: "The monitor" }, ...problems(400, 409, 503) }
        },
        get: {
          summary: "List monitors",
          responses: { "200": { description: "{ items: Monitor[] }" }, ...problems(503) }
        }
      },
      "/v1/drift/monitors/{id}": {
        get: {
          summary: "Get a monitor",
          parameters: [experimentParam],
          responses: { "200": { description: "The monitor" }, ...problems(404, 503) }
        }
      },
      "/v1/drift/monitors/{id}/baseline": {
        put: {
          summary:
            "Freeze a new baseline version per feature: { feature: values[] } (numbers, strings for categorical, null for missing)",
          parameters: [experimentParam],
          responses: { "200": { description: "{ features }" }, ...problems(400, 404, 503) }
        }
      },
      "/v1/drift/monitors/{id}/observations": {
        post: {
          summary: "Record values: { values: { feature: values[] } } or { rows: [{ feature: value, ... }] }",
          parameters: [experimentParam],
          responses: { "202": { description: "{ recorded }" }, ...problems(400, 404, 503) }
        }
      },
      "/v1/drift/monitors/{id}/check": {
        post: {
          summary: "Check now: KS/chi-square and PSI per feature, severities, alerts",
          parameters: [experimentParam],
          responses: { "200": { description: "DriftReport" }, ...problems(404, 503) }
        }
      },
      "/v1/drift/reports": {
        get: {
          summary: "Checks and alerts kept, with statistics and both distributions",
          parameters: [{ name: "monitorId", in: "query", required: false, schema: { type: "string" } }, {
            name: "since",
            in: "query",
            required: false,
            schema: { type: "string", format: "date-time" }
          }],
          responses: { "200": { description: "{ items: DriftReport[] }" }, ...problems(400, 503) }
        }
      },
      "/v1/drift/webhooks": {
        post: {
          summary:
            "Register a webhook: { url, secret, monitorId?, minSeverity? }; POSTs are signed x-ml-signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t.body)>",
          responses: { "201": { description: "The webhook (secret masked)" }, ...problems(400, 503) }
        },
        get: {
          summary: "List webhooks (secrets masked)",
          responses: { "200": { description: "{ items }" }, ...problems(503) }
        }
      },
      "/v1/drift/webhooks/{id}": {
        delete: {
          summary: "Delete a webhook",
          parameters: [experimentParam],
          responses: { "204": { description: "Deleted" }, ...problems(404, 503) }
        }
      },
      "/v1/drift/webhooks/{id}/deliveries": {
        get: {
          summary: "Every delivery attempt of a webhook",
          parameters: [experimentParam],
          responses: { "200": { description: "{ items }" }, ...problems(503) }
        }
      },
      "/v1/pipelines": {
        post: {
          summary:
            "Create an online-learning pipeline for a registered learner model: { name, modelId, id?, strategy? (incremental | mini-batch | periodic | adaptive), batchSize?, minSamples?, maxBufferSize?, updateFrequencySeconds?, learningRate?, holdoutShare?, validationMetric?, degradationTolerance?, monitorId? }",
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
          summary:
            "Status: the pipeline, counters (received, duplicates, dropped, processed, buffered), progressive metrics, update records",
          parameters: [experimentParam],
          responses: { "200": { description: "PipelineStatus" }, ...problems(404, 503) }
        }
      },
      "/v1/pipelines/{id}/samples": {
        post: {
          summary:
            "Add labelled samples: { samples: [{ sampleId, features: { name: number }, label, weight? }] }; duplicates by sampleId are counted and ignored; may trigger an update",
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
          summary:
            "Predict with the live learner: { features: { name: number } } -> { prediction } or { rows: [...] } -> { predictions }",
          parameters: [experimentParam],
          responses: { "200": { description: "{ predictions: number[] }" }, ...problems(400, 404, 503) }
        }
      },
      "/healthz": { get: { summary: "Liveness", responses: { "200": { description: "Alive" } } } },
      "/readyz": {
        get: { summary: "Readiness: storage answers", responses: { "200": { description: "Ready" }, ...problems(503) } }
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "Text exposition format" } } }
      }
    }
  }
}
