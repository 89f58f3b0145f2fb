/**
 * An existing Fastify service embedding ML Pipeline: the host's Redis client and prom-client
 * registry go to `createMlPipeline`; the routes call the Promise API; the error handler answers
 * ML Pipeline's typed errors with their problem (status, code, fields); GET /metrics renders the
 * host's registry with our metrics on it. `onClose` stops ML Pipeline with the server.
 */
import { createMlPipeline, type MlPipelineInstance } from "@org/ml-pipeline"
import { MlApiError } from "@org/ml-sdk"
import Fastify, { type FastifyInstance } from "fastify"
import type { Redis } from "ioredis"
import { Registry } from "prom-client"

export interface ServiceOptions {
  /** The service's own Redis client: ML Pipeline uses it and leaves it open. */
  readonly redis: Redis
  readonly redisPrefix: string
  readonly storageDir: string
}

export const createService = async (
  options: ServiceOptions
): Promise<{ readonly app: FastifyInstance; readonly ml: MlPipelineInstance }> => {
  const metrics = new Registry()
  const ml = await createMlPipeline({
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    storageDir: options.storageDir,
    metrics
  })
  ml.start()

  const app = Fastify()
  app.addHook("onClose", () => ml.close())
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof MlApiError) {
      return reply.code(error.status).type("application/problem+json").send(JSON.stringify(error.problem))
    }
    return reply.send(error)
  })

  app.post<{ Body: Parameters<MlPipelineInstance["drift"]["createMonitor"]>[0] }>(
    "/monitors",
    async (request, reply) => reply.code(201).send(await ml.drift.createMonitor(request.body))
  )
  app.put<{ Params: { id: string }; Body: Record<string, ReadonlyArray<number>> }>(
    "/monitors/:id/baseline",
    async (request) => {
      await ml.drift.setBaseline(request.params.id, request.body)
      return { ok: true }
    }
  )
  app.post<{ Params: { id: string }; Body: Record<string, ReadonlyArray<number>> }>(
    "/monitors/:id/observations",
    async (request, reply) => {
      await ml.drift.recordBatch(request.params.id, request.body)
      return reply.code(202).send({ ok: true })
    }
  )
  app.post<{ Params: { id: string } }>("/monitors/:id/check", async (request) => ml.drift.check(request.params.id))
  app.get("/metrics", async (_request, reply) => {
    await ml.refreshMetrics()
    return reply.type(metrics.contentType).send(await metrics.metrics())
  })
  return { app, ml }
}
