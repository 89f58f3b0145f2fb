#!/usr/bin/env node
/**
 * Entry point: configuration from the environment, start, and graceful shutdown on SIGTERM/SIGINT;
 * `repair [--data-dir DIR]` runs the journal repair instead (see Repair.ts), and `init-redis`
 * confirms an emptied or replaced Redis (see InitRedis.ts).
 */
import { ConfigError, loadConfig } from "./Config.js"
import { initRedis } from "./InitRedis.js"
import { runRepair } from "./Repair.js"
import { startServer } from "./Server.js"

const main = async () => {
  if (process.argv[2] === "repair") process.exit(await runRepair(process.argv.slice(3), process.env))
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
  const server = await startServer(config).catch((error) => {
    console.error(`ML Pipeline server failed to start: ${error instanceof Error ? error.message : String(error)}`)
    process.exit(1)
  })
  const mode = config.redisUrl
    ? `redis metadata (${config.redisUrl.replace(/\/\/[^@/]*@/, "//***@")}), artifacts in ${config.storageDir}`
    : `embedded storage in ${config.storageDir}`
  // Without ML_API_TOKEN the server is open to anyone who can reach it: say so where operators look.
  const authentication = config.apiToken === undefined
    ? "authentication off: set ML_API_TOKEN to require keys"
    : "authentication on"
  console.log(
    `ML Pipeline server listening on ${server.url} (${mode}; ${authentication}); API docs at ${server.url}/docs`
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
