/**
 * A Lua script run by its SHA-1 (EVALSHA), so a hot path sends a few bytes per call instead of
 * the script's text; the text goes once per Redis (on NOSCRIPT: a restarted or flushed server's
 * script cache is empty, and each cluster node has its own).
 */
import { Command } from "ioredis"
import { createHash } from "node:crypto"
import type { RedisConnection } from "./RedisCluster.js"

type Run = (
  redis: RedisConnection,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | number>
) => Promise<unknown>

export interface LuaScript extends Run {
  /**
   * The same call written to the connection at once, not left for the next automatic pipeline:
   * a batch sent from its own setImmediate (ScriptBatches.ts) would otherwise wait one more turn
   * of the event loop.
   */
  readonly now: Run
  /** The script's text and its SHA-1 (for baselines that run the same script without this module). */
  readonly text: string
  readonly sha: string
}

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

export const luaScript = (text: string): LuaScript => {
  const sha = createHash("sha1").update(text).digest("hex")
  const withSend =
    (send: (redis: RedisConnection, name: string, args: Array<string>) => Promise<unknown>): Run =>
    (redis, keys, args) => {
      // One array argument, not a spread: a batch's arguments are not bounded by a call's slots.
      const rest = [keys.length as string | number].concat(keys, args) as Array<string>
      return send(redis, "EVALSHA", [sha].concat(rest)).catch((error: unknown) =>
        isNoScript(error) ? send(redis, "EVAL", [text].concat(rest)) : Promise.reject(error)
      )
    }
  const pipelined = withSend((redis, name, args) => redis.call(name, args))
  const now = withSend((redis, name, args) => {
    // What redis.call does when automatic pipelining is off (replies as strings).
    const command = new Command(name, args, { replyEncoding: "utf8" })
    redis.sendCommand(command)
    return command.promise
  })
  return Object.assign(pipelined, { text, sha, now })
}
