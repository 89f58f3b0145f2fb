/**
 * `ml-server init-redis`: the operator confirms that the configured Redis is the one to use from
 * now on (after it was emptied, restarted without persistence or replaced). It writes a new
 * instance marker naming the one this data directory remembered, so every running server that
 * knew the old marker accepts the new one without a restart, and the directory remembers it.
 */
import { RedisClient, RedisInstance } from "@org/ml-adapter-redis"
import type { ServerConfig } from "./Config.js"
import { redisOptions } from "./Server.js"

export const initRedis = async (config: ServerConfig, log: (line: string) => void = console.log): Promise<void> => {
  if (config.redisUrl === undefined && config.redisClusterNodes === undefined) {
    throw new Error("init-redis needs ML_REDIS_URL or ML_REDIS_CLUSTER_NODES")
  }
  const options = redisOptions(config)
  const client = await RedisClient.connect(options)
  try {
    const { marker, written } = await RedisInstance.confirm(client, options)
    const where = `under prefix "${config.redisPrefix}"`
    const replacing = marker.replaces === undefined
      ? ""
      : `, replacing ${marker.replaces} (running servers that knew it accept the new one)`
    log(
      written
        ? `Wrote Redis instance ${marker.id} (${marker.createdAt}) ${where}${replacing}`
        : `Redis ${where} already is instance ${marker.id} (${marker.createdAt}); nothing to do`
    )
  } finally {
    await client.quit().catch(() => client.disconnect())
  }
}
