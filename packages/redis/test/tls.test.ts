// A single Redis that serves TLS only (a redis-server this file starts on a free port, with a CA
// and certificate made for the run by openssl): rediss:// with the CA connects and the stores
// work; without the CA, or over plain redis://, start-up fails saying what to change.
import { ModelStore } from "@org/ml-core"
import { sampleEvent, sampleModel } from "@org/ml-core/testing"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { RedisClient, RedisModelStore } from "../src/index.js"
import { type LocalRedis, makeTlsFiles, startLocalRedis, type TlsFiles, uniquePrefix } from "../src/Testing.js"

let tlsFiles: TlsFiles
let redis: LocalRedis
beforeAll(async () => {
  tlsFiles = await makeTlsFiles()
  redis = await startLocalRedis({ tls: tlsFiles, password: "tls-test-password" })
}, 60_000)
afterAll(async () => {
  await redis?.stop()
  await tlsFiles?.remove()
})

const settingNames = { connection: "ML_REDIS_URL", tlsCa: "ML_REDIS_TLS_CA" }
const connectMessage = (options: Partial<RedisClient.RedisOptions>) =>
  RedisClient.connect({ url: "", settingNames, connectTimeoutMillis: 3000, ...options }).then(
    (client) => {
      client.disconnect()
      return "connected"
    },
    (error: Error) => error.message
  )

describe("Redis over TLS", () => {
  it("connects with the CA and serves the stores", async () => {
    const url = `rediss://:tls-test-password@127.0.0.1:${redis.port}`
    const model = sampleModel()
    const stored = await Effect.runPromise(
      Effect.gen(function*() {
        const store = yield* ModelStore.ModelStore
        yield* store.insert(model, sampleEvent(model))
        return yield* store.get(model.id)
      }).pipe(
        Effect.provide(
          RedisModelStore.layer.pipe(
            Layer.provide(RedisClient.layer({ url, prefix: uniquePrefix("tls"), tlsCaFile: tlsFiles.caCert }))
          )
        )
      )
    )
    expect(stored).toEqual(model)
    // localhost is in the certificate too: the name is checked, not only the chain.
    expect(
      await connectMessage({ url: `rediss://:tls-test-password@localhost:${redis.port}`, tlsCaFile: tlsFiles.caCert })
    )
      .toBe("connected")
  })

  it("refuses a server whose certificate no trusted CA signed, naming the CA setting", async () => {
    const message = await connectMessage({ url: `rediss://:tls-test-password@127.0.0.1:${redis.port}` })
    expect(message).toMatch(/self[- ]signed certificate/)
    expect(message).toContain("set ML_REDIS_TLS_CA to the CA certificate that signed it")
    const wrongCa = await connectMessage({
      url: `rediss://:tls-test-password@127.0.0.1:${redis.port}`,
      tlsCaFile: tlsFiles.serverCert
    })
    expect(wrongCa).toContain(`not signed by a CA in ML_REDIS_TLS_CA (${tlsFiles.serverCert})`)
  })

  it("says rediss:// when plain redis:// reaches a TLS port, and names an unreadable CA file", async () => {
    expect(await connectMessage({ url: `redis://:tls-test-password@127.0.0.1:${redis.port}` }))
      .toContain("use rediss:// in ML_REDIS_URL")
    expect(
      await connectMessage({
        url: `rediss://:tls-test-password@127.0.0.1:${redis.port}`,
        tlsCaFile: `${tlsFiles.caCert}.missing`
      })
    ).toContain(`Cannot read ML_REDIS_TLS_CA ${tlsFiles.caCert}.missing`)
  })

  it("names the URL setting when the password is wrong, without repeating the password", async () => {
    const message = await connectMessage({
      url: `rediss://:not-the-password@127.0.0.1:${redis.port}`,
      tlsCaFile: tlsFiles.caCert
    })
    expect(message).toContain("Redis refused the user name or password in ML_REDIS_URL")
    expect(message).not.toContain("not-the-password")
  })
})
