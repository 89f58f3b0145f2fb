/**
 * Runs the example: REDIS_URL (default redis://127.0.0.1:6379), PORT (default 3000), STORAGE_DIR
 * (default ./.ml-data).
 */
import { Redis } from "ioredis"
import { createService } from "./app.js"

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379")
const service = await createService({
  redis,
  redisPrefix: "my-service:ml:",
  storageDir: process.env.STORAGE_DIR ?? "./.ml-data"
})
const server = service.app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1")
process.once("SIGTERM", () => {
  server.close(async () => {
    await service.close()
    await redis.quit()
  })
})
