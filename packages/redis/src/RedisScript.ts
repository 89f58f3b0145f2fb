/**
 * Lua scripts run by EVALSHA: a hot path sends the script's 40-character digest, not its source,
 * on every call. Redis answers NOSCRIPT when it does not hold the script (first use, a restart,
 * SCRIPT FLUSH, a failover to a replica that never saw it); then the source goes once by EVAL,
 * which also caches it on that server.
 */
import { createHash } from "node:crypto"
import type { RedisConnection } from "./RedisCluster.js"

export interface LuaScript {
  readonly source: string
  readonly sha1: string
}

export const luaScript = (source: string): LuaScript => ({
  source,
  sha1: createHash("sha1").update(source).digest("hex")
})

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

/**
 * Runs `script` over `keys` with `args`. Arguments go as one array, not a spread: a batch can
 * carry more of them than a call has argument slots.
 */
export const runScript = async (
  redis: RedisConnection,
  script: LuaScript,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
): Promise<unknown> => {
  const rest = [keys.length as string | number].concat(keys, args)
  try {
    return await redis.call("EVALSHA", [script.sha1].concat(rest as Array<string>))
  } catch (error) {
    if (!isNoScript(error)) throw error
    return redis.call("EVAL", [script.source].concat(rest as Array<string>))
  }
}
