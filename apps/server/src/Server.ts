/**
 * Composition root: configuration picks the adapters (Redis for metadata when ML_REDIS_URL is
 * set, the filesystem otherwise; artifacts always on the filesystem), one ManagedRuntime is
 * built from their layers at start-up, and the Node HTTP server serves the Hono app until a
 * graceful shutdown.
 */
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { serve } from "@hono/node-server"
import { FsArtifactStore, FsModelStore } from "@org/ml-adapter-fs"
import { PrometheusMetrics, type Registry } from "@org/ml-adapter-prometheus"
import { RedisClient, RedisModelStore } from "@org/ml-adapter-redis"
import { type ArtifactStore, ModelRegistry, type ModelStore, type StorageError } from "@org/ml-core"
import { Layer, ManagedRuntime } from "effect"
import { makeApp } from "./App.js"
import type { ServerConfig } from "./Config.js"

export const makeStorageLayer = (config: ServerConfig): Layer.Layer<ModelStore.ModelStore | ArtifactStore.ArtifactStore, StorageError> => {
  const directory = path.resolve(config.storageDir)
  const metadata = config.redisUrl === undefined
    ? FsModelStore.layer({ directory })
    : RedisModelStore.layer.pipe(Layer.provide(RedisClient.layer({ url: config.redisUrl, prefix: config.redisPrefix })))
  return Layer.merge(metadata, FsArtifactStore.layer({ directory }))
}

export const makeRuntime = (config: ServerConfig, metricsRegistry: Registry) =>
  ManagedRuntime.make(
    ModelRegistry.layer({ demoteProductionTo: config.demoteProductionTo, maxArtifactBytes: config.maxUploadBytes }).pipe(
      Layer.provide(Layer.merge(makeStorageLayer(config), PrometheusMetrics.layer(metricsRegistry)))
    )
  )

export interface RunningServer {
  readonly url: string
  readonly close: () => Promise<void>
}

/** The Hono app wired to a runtime and a Prometheus registry as configured. */
export const makeServerApp = (
  config: ServerConfig,
  runtime: ReturnType<typeof makeRuntime>,
  metricsRegistry: Registry,
  log: (line: string) => void
) =>
  makeApp({
    runtime,
    httpMetrics: PrometheusMetrics.makeHttpMetrics(metricsRegistry),
    maxJsonBytes: config.maxJsonBytes,
    maxUploadBytes: config.maxUploadBytes,
    apiToken: config.apiToken,
    log,
    metrics: async () => {
      await runtime.runPromise(ModelRegistry.ModelRegistry.use((registry) => registry.refreshGauges())).catch((error) =>
        log(`Could not refresh registry gauges: ${String(error)}`))
      return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() }
    }
  })

/** Builds every layer (failing fast on bad storage), then listens; `close` drains in-flight requests. */
export const startServer = async (config: ServerConfig, log: (line: string) => void = console.error): Promise<RunningServer> => {
  const metricsRegistry = PrometheusMetrics.makeRegistry()
  const runtime = makeRuntime(config, metricsRegistry)
  try {
    await runtime.runPromise(ModelRegistry.ModelRegistry.use((registry) => registry.ping()))
  } catch (error) {
    await runtime.dispose()
    throw error
  }
  const app = makeServerApp(config, runtime, metricsRegistry, log)
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s))
  })
  const address = server.address() as AddressInfo
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          log("Shutdown timeout reached; closing remaining connections")
          ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
        }, config.shutdownTimeoutMs)
        server.close(() => {
          clearTimeout(force)
          resolve()
        })
        ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
      }).then(() => runtime.dispose())
  }
}

