/**
 * Runs the example: REDIS_URL (default redis://127.0.0.1:6379), PORT (default 3000), STORAGE_DIR
 * (default ./.ml-data).
 */
import { Redis } from "ioredis"
import { createService } from "./app.js"

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379")
const { app } = await createService({
  redis,
  redisPrefix: "my-service:ml:",
  storageDir: process.env.STORAGE_DIR ?? "./.ml-data"
})
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3000) })
process.once("SIGTERM", async () => {
  await app.close()
  await redis.quit()
})
