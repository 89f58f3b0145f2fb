/**
 * A Lua script run by its SHA-1 (EVALSHA), so a hot path sends a few bytes per call instead of
 * the script's text; the text goes once per Redis (on NOSCRIPT: a restarted or flushed server's
 * script cache is empty, and each cluster node has its own).
 */
import { createHash } from "node:crypto"
import type { RedisConnection } from "./RedisCluster.js"

export interface LuaScript {
  (redis: RedisConnection, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>): Promise<unknown>
  /** The script's text and its SHA-1 (for baselines that run the same script without this module). */
  readonly text: string
  readonly sha: string
}

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

export const luaScript = (text: string): LuaScript => {
  const sha = createHash("sha1").update(text).digest("hex")
  const run = (redis: RedisConnection, keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => {
    // One array argument, not a spread: a batch's arguments are not bounded by a call's slots.
    const rest = [keys.length as string | number].concat(keys, args)
    return redis.call("EVALSHA", [sha].concat(rest as Array<string>)).catch((error: unknown) =>
      isNoScript(error) ? redis.call("EVAL", [text].concat(rest as Array<string>)) : Promise.reject(error)
    )
  }
  return Object.assign(run, { text, sha })
}
