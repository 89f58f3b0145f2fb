#!/usr/bin/env node
/**
 * Entry point: configuration from the environment, start, and graceful shutdown on SIGTERM/SIGINT;
 * `repair [--data-dir DIR]` runs the journal repair instead (see Repair.ts), and `init-redis`
 * confirms an emptied or replaced Redis (see InitRedis.ts), `migrate` copies a deployment to
 * another store (see Migrate.ts), `loadtest` drives a running server's hot routes (see
 * LoadTest.ts). Exit codes: 0 clean shutdown, 1 an unexpected failure, 2 a usage or
 * configuration problem named in one line.
 */
import * as fs from "node:fs"
import { ConfigError, describeStorage, loadConfig } from "./Config.js"
import { initRedis } from "./InitRedis.js"
import { loadTestUsage, runLoadTest } from "./LoadTest.js"
import { runMigrate } from "./Migrate.js"
import { runRepair } from "./Repair.js"
import { startServer } from "./Server.js"
import { checkDataDirectory, describeListenFailure } from "./StartupProblems.js"

const version = (JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string
}).version

const usage = `ml-server ${version}: the ML Pipeline server (API at /v1, dashboard at /, docs at /docs)

Usage:
  ml-server                       start (configuration from ML_* environment variables)
  ml-server repair [--data-dir DIR]
                                  check and repair the data directory's journals (server stopped)
  ml-server init-redis            confirm an emptied or replaced Redis
  ml-server migrate --from-env FILE --to-env FILE [--models-only]
                                  copy models, audit history, artifacts and API keys to an empty
                                  store and verify them (each FILE: ML_* settings; servers stopped)
  ml-server loadtest --experiment ID [--url URL] [--duration S] [--rate N] ...
                                  load a running server's hot routes (loopback only, bounded)
                                  and print throughput and latency percentiles per route
  ml-server --help | --version

Common settings (README "Configuration" lists all):
  ML_PORT (8080)  ML_HOST (127.0.0.1)  ML_MODEL_STORAGE_DIR (./.ml-data)  ML_REDIS_URL (unset: files only)
  ML_REDIS_CLUSTER_NODES (host:port,... or rediss://user:password@host:port,...: a Redis Cluster instead of
  ML_REDIS_URL)  ML_REDIS_TLS_CA (PEM file of the CAs trusted for rediss://)
  ML_API_TOKEN (unset: no authentication)  ML_ARTIFACT_ENCRYPTION_KEY  ML_CORS_ORIGINS

Example:
  ML_PORT=9000 ML_MODEL_STORAGE_DIR=/var/lib/ml ml-server
`

const fail = (line: string, code: number): never => {
  console.error(line)
  process.exit(code)
}

const main = async () => {
  const command = process.argv[2]
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(usage)
    return
  }
  if (command === "--version" || command === "-v") {
    process.stdout.write(`${version}\n`)
    return
  }
  if (command === "repair") process.exit(await runRepair(process.argv.slice(3), process.env))
  if (command === "migrate") process.exit(await runMigrate(process.argv.slice(3)))
  if (command === "loadtest") {
    if (process.argv[3] === "--help") process.stdout.write(loadTestUsage)
    else process.exit(await runLoadTest(process.argv.slice(3), process.env))
    return
  }
  if (command !== undefined && command !== "init-redis" && command !== "start") {
    fail(`Unknown command or option: ${command} (see ml-server --help)`, 2)
  }
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`)
      process.exit(2)
    }
    throw error
  }
  if (process.argv[2] === "init-redis") {
    // The operator confirms an emptied or replaced Redis (README: Durability / Redis mode).
    await initRedis(config).then(() => process.exit(0), (error) => {
      console.error(`init-redis failed: ${error instanceof Error ? error.message : String(error)}`)
      process.exit(1)
    })
    return
  }
  const unusableDirectory = checkDataDirectory(config.storageDir)
  if (unusableDirectory !== undefined) fail(unusableDirectory, 2)
  const server = await startServer(config).catch((error: unknown) => {
    const listenProblem = describeListenFailure(error, config.host, config.port)
    if (listenProblem !== undefined) return fail(listenProblem, 2)
    return fail(`ML Pipeline server failed to start: ${error instanceof Error ? error.message : String(error)}`, 1)
  })
  const mode = describeStorage(config)
  // Without ML_API_TOKEN the server is open to anyone who can reach it: say so where operators look.
  const authentication = config.apiToken === undefined
    ? "authentication off: set ML_API_TOKEN to require keys"
    : "authentication on"
  console.log(
    `ML Pipeline server listening on ${server.url} (${mode}; ${authentication}); ` +
      `dashboard at ${server.url}/, API docs at ${server.url}/docs`
  )
  const shutdown = (signal: string) => {
    console.log(`${signal} received: finishing in-flight requests`)
    server.close().then(() => process.exit(0), (error) => {
      console.error(error)
      process.exit(1)
    })
  }
  process.once("SIGTERM", () => shutdown("SIGTERM"))
  process.once("SIGINT", () => shutdown("SIGINT"))
}

void main()
