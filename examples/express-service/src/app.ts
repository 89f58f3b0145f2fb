/**
 * An existing Express service embedding ML Pipeline: the host owns its Redis client and its
 * prom-client registry, hands both to `createMlPipeline`, serves a few routes over the Promise API
 * and exposes our metrics beside its own on GET /metrics. Typed errors map to HTTP answers by their
 * `status` (the same classes and problem bodies the ML Pipeline server and SDK use).
 */
import { createMlPipeline, type MlPipelineInstance } from "@org/ml-pipeline"
import { MlApiError } from "@org/ml-sdk"
import express, { type NextFunction, type Request, type Response } from "express"
import type { Redis } from "ioredis"
import { collectDefaultMetrics, Registry } from "prom-client"

export interface ServiceOptions {
  /** The service's own Redis client: ML Pipeline uses it and leaves it open. */
  readonly redis: Redis
  /** Keeps our keys apart from the service's own. */
  readonly redisPrefix: string
  /** Where model artifacts are stored. */
  readonly storageDir: string
}

export interface Service {
  readonly app: express.Express
  readonly ml: MlPipelineInstance
  readonly metrics: Registry
  /** Stops the background work and releases ML Pipeline's resources (not the Redis client). */
  readonly close: () => Promise<void>
}

export const createService = async (options: ServiceOptions): Promise<Service> => {
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics })
  const ml = await createMlPipeline({
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    storageDir: options.storageDir,
    metrics
  })
  ml.start()

  const app = express()
  app.use(express.json())

  app.post("/models", async (req, res) => {
    res.status(201).json(await ml.registry.registerModel(req.body))
  })
  app.post("/models/:id/promote", async (req, res) => {
    res.json(await ml.registry.promoteModel(req.params.id, req.body.status, { reason: req.body.reason }))
  })
  app.get("/models/:id", async (req, res) => {
    res.json(await ml.registry.getModel(req.params.id))
  })
  app.get("/experiments/:id/assignment/:userId", async (req, res) => {
    res.json(await ml.experiments.getModelAssignment(req.params.id, req.params.userId))
  })
  app.get("/metrics", async (_req, res) => {
    // Our gauges are rebuilt from storage (reused for a few seconds), then the host's registry renders everything.
    await ml.refreshMetrics()
    res.type(metrics.contentType).send(await metrics.metrics())
  })

  // Express 5 passes a rejected handler's error here: ML Pipeline's errors carry their HTTP problem.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(error instanceof MlApiError)) return next(error)
    res.status(error.status).type("application/problem+json").send(JSON.stringify(error.problem))
  })

  return { app, ml, metrics, close: () => ml.close() }
}
