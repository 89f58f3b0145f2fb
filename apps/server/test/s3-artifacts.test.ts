// Artifacts in an S3-compatible bucket (s3rver started here, on a free port): the configuration
// rules, and two server processes sharing one Redis prefix and one bucket, so an artifact
// uploaded through one downloads verified through the other, and a tampered object is refused.
import { connectOrFail, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "@org/ml-adapter-redis/testing"
import { S3ArtifactStore, S3Client } from "@org/ml-adapter-s3"
import { type RunningS3rver, s3rverCredentials, startS3rver } from "@org/ml-adapter-s3/testing"
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ConfigError, loadConfig } from "../src/Config.js"
import { metadata } from "./helpers.js"
import { killHard, type ListeningServer, startServer } from "./serverProcess.js"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const configError = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  return "no error"
}

describe("S3 artifact configuration", () => {
  const s3Env = {
    ML_ARTIFACT_URL: "s3://ml-artifacts/prod",
    AWS_ACCESS_KEY_ID: "AKID",
    AWS_SECRET_ACCESS_KEY: "secret"
  }

  it("reads the bucket and prefix, AWS's endpoint with virtual hosts by default, credentials redacted", () => {
    const config = loadConfig({ ...s3Env, AWS_REGION: "eu-west-1" })
    expect(config.s3Artifacts).toMatchObject({
      bucket: "ml-artifacts",
      prefix: "prod",
      endpoint: "https://s3.eu-west-1.amazonaws.com",
      region: "eu-west-1",
      forcePathStyle: false
    })
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      expect(printed).not.toContain("secret")
    }
    expect(loadConfig({}).s3Artifacts).toBeUndefined()
  })

  it("takes ML_S3_ENDPOINT over AWS_ENDPOINT_URL_S3, path-style for an explicit endpoint unless told otherwise", () => {
    expect(loadConfig({ ...s3Env, AWS_ENDPOINT_URL_S3: "http://minio:9000/" }).s3Artifacts).toMatchObject({
      endpoint: "http://minio:9000",
      forcePathStyle: true,
      region: "us-east-1"
    })
    expect(
      loadConfig({ ...s3Env, ML_S3_ENDPOINT: "https://r2.example", AWS_ENDPOINT_URL_S3: "http://minio:9000" })
        .s3Artifacts
    ).toMatchObject({ endpoint: "https://r2.example" })
    expect(
      loadConfig({ ...s3Env, ML_S3_ENDPOINT: "https://r2.example", ML_S3_FORCE_PATH_STYLE: "false" }).s3Artifacts
    ).toMatchObject({ forcePathStyle: false })
  })

  it("names the variable and the rule when a setting is wrong", () => {
    expect(configError({ ...s3Env, ML_ARTIFACT_URL: "s3://Bad_Bucket" })).toMatch(
      /^ML_ARTIFACT_URL: bucket must be 3 to 63 lowercase/
    )
    expect(configError({ ...s3Env, ML_S3_ENDPOINT: "minio:9000" })).toMatch(/^ML_S3_ENDPOINT: must be an http/)
    expect(configError({ ...s3Env, AWS_SECRET_ACCESS_KEY: "" })).toBe(
      "AWS_SECRET_ACCESS_KEY: must be set when ML_ARTIFACT_URL is an s3:// URL"
    )
    expect(configError({ ...s3Env, ML_ARTIFACT_ENCRYPTION_KEY: randomBytes(32).toString("base64") })).toMatch(
      /^ML_ARTIFACT_ENCRYPTION_KEY: is for artifacts in the data directory/
    )
  })
})

describe("artifacts in S3 shared by two server processes (Redis metadata)", () => {
  let s3: RunningS3rver
  const redisPrefix = uniquePrefix("s3-artifacts")
  const bucketPrefix = `server-${process.pid}`
  const running: Array<ListeningServer> = []
  const directories: Array<string> = []
  let admin: Awaited<ReturnType<typeof connectOrFail>>

  beforeAll(async () => {
    admin = await connectOrFail()
    s3 = await startS3rver()
  })
  afterAll(async () => {
    await Promise.all(running.map((server) => killHard(server.child)))
    await s3?.stop()
    await deleteKeysWithPrefix(admin, redisPrefix)
    await admin.quit()
    await Promise.all(directories.map((d) => fs.rm(d, { recursive: true, force: true })))
  })

  const start = async (extra: Record<string, string> = {}) => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-s3-"))
    directories.push(directory)
    const server = await startServer(directory, {
      ML_ARTIFACT_URL: `s3://${s3.bucket}/${bucketPrefix}`,
      ML_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey,
      ...extra
    })
    running.push(server)
    return { server, directory }
  }
  const redisEnv = () => ({ ML_REDIS_URL: redisUrl, ML_REDIS_PREFIX: redisPrefix })
  const client = () =>
    S3Client.make({
      endpoint: s3.endpoint,
      region: "us-east-1",
      bucket: s3.bucket,
      forcePathStyle: true,
      credentials: s3rverCredentials
    })
  const layout = S3ArtifactStore.keys(bucketPrefix)

  const register = async (url: string, version: string) => {
    const response = await fetch(`${url}/v1/models`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(metadata({ version }))
    })
    expect(response.status).toBe(201)
    return ((await response.json()) as { id: string }).id
  }
  const upload = (url: string, id: string, bytes: Uint8Array<ArrayBuffer>) =>
    fetch(`${url}/v1/models/${id}/artifact`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "x-artifact-sha256": sha256(bytes) },
      body: bytes
    })

  // Over one 8 MiB part, so the upload goes multipart through a temporary key.
  const bytes = new Uint8Array(randomBytes(9 * 1024 * 1024 + 4321))
  let modelId = ""

  it("uploads through one instance and downloads verified through another; nothing lands on either disk", async () => {
    const a = await start(redisEnv())
    const b = await start(redisEnv())
    modelId = await register(a.server.url, "s3-shared")
    const uploaded = await upload(a.server.url, modelId, bytes)
    expect(uploaded.status).toBe(200)
    const response = await fetch(`${b.server.url}/v1/models/${modelId}/artifact`)
    expect(response.status).toBe(200)
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(bytes))
    expect((await client().listObjects(layout.model(modelId))).map((o) => o.key)).toEqual([
      layout.artifact(modelId, sha256(bytes))
    ])
    expect(await client().listObjects(layout.temp)).toEqual([])
    for (const { directory } of [a, b]) {
      const artifacts = await fs.readdir(path.join(directory, "artifacts")).catch(() => [])
      expect(artifacts).toEqual([])
    }
    expect((await fetch(`${b.server.url}/readyz`)).status).toBe(200)
  })

  it("answers 422 IntegrityError on every instance once the object in the bucket is tampered with", async () => {
    const key = layout.artifact(modelId, sha256(bytes))
    const tampered = new Uint8Array(bytes)
    tampered[tampered.length - 1]! ^= 1
    await client().putObject(key, tampered, S3Client.sha256Hex(tampered))
    for (const server of running.slice(0, 2)) {
      const response = await fetch(`${server.url}/v1/models/${modelId}/artifact`)
      expect(response.status).toBe(422)
      expect(await response.json()).toMatchObject({ code: "IntegrityError", expectedSha256: sha256(bytes) })
    }
  })

  it("serves artifacts from the bucket in embedded (fs) mode too", async () => {
    const { server } = await start()
    const id = await register(server.url, "s3-embedded")
    const small = new Uint8Array(randomBytes(100_000))
    expect((await upload(server.url, id, small)).status).toBe(200)
    const response = await fetch(`${server.url}/v1/models/${id}/artifact`)
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(small))
    expect(await client().listObjects(layout.model(id))).toHaveLength(1)
  })

  it("refuses to start when the bucket is not reachable, naming it", async () => {
    const directory = await fs.mkdtemp(path.join(os.tmpdir(), "ml-server-s3-"))
    directories.push(directory)
    await expect(
      startServer(directory, {
        ML_ARTIFACT_URL: "s3://no-such-bucket/x",
        ML_S3_ENDPOINT: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey
      })
    ).rejects.toThrow(/S3 artifact store no-such-bucket\/x is not usable/)
  })
})
