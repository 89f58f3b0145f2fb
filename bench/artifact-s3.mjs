// Artifact upload/download through the real server process, artifacts on disk vs in an
// S3-compatible bucket (s3rver, a Node S3 server on this machine writing to the same disk),
// side by side in one run, with the S3 server's peak RSS growth. What the ratio shows is the
// cost of the S3 path (multipart parts, a server-side copy to the final key, the verification
// read) against local files; a real S3 or MinIO adds network latency and its own throughput.
//
//   node bench/artifact-s3.mjs [sizeMiB=256] [rounds=3]
import { S3Client } from "@org/ml-adapter-s3"
import { s3rverCredentials, startS3rver } from "@org/ml-adapter-s3/testing"
import { createHash, randomFillSync } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { median, startServerProcess, timedArtifactRoundTrip } from "./lib.mjs"

const here = path.dirname(fileURLToPath(import.meta.url))
const sizeMiB = Number(process.argv[2] ?? 256)
const rounds = Number(process.argv[3] ?? 3)
const total = sizeMiB * 1024 * 1024
const block = randomFillSync(new Uint8Array(1024 * 1024))
const runDir = path.join(here, ".tmp", `s3-run-${Date.now()}`)
// The digest a client declares up front (x-artifact-sha256): the S3 store then completes the
// multipart upload at the final key instead of copying from a temporary one.
const declared = (() => {
  const hash = createHash("sha256")
  for (let sent = 0; sent < total; sent += block.byteLength) hash.update(block)
  return hash.digest("hex")
})()
const rate = (ms) => (sizeMiB / (ms / 1000))
const procStatus = async (pid, field) => {
  const text = await fs.readFile(`/proc/${pid}/status`, "utf8")
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)[1]) * 1024
}

/**
 * s3rver on its own, for the stated reason behind the ratio: the same bytes as one multipart
 * upload of 8 MiB parts and one GET, straight from this process with no ML server in between.
 */
const s3rverAlone = async (client) => {
  const key = `raw/${Date.now()}`
  const part = new Uint8Array(8 * 1024 * 1024)
  for (let offset = 0; offset < part.length; offset += block.length) part.set(block, offset)
  let started = performance.now()
  const uploadId = await client.createMultipartUpload(key)
  const parts = []
  for (let sent = 0, n = 1; sent < total; sent += part.length, n++) {
    parts.push(await client.uploadPart(key, uploadId, n, part.subarray(0, Math.min(part.length, total - sent))))
  }
  await client.completeMultipartUpload(key, uploadId, parts)
  const uploadMs = performance.now() - started
  started = performance.now()
  const response = await client.getObject(key)
  for await (const _ of response.body) { /* read through */ }
  const downloadMs = performance.now() - started
  await client.deleteObject(key)
  return { uploadMs, downloadMs }
}

const s3 = await startS3rver("ml-bench")
const servers = {}
try {
  servers.disk = await startServerProcess({
    ML_MODEL_STORAGE_DIR: path.join(runDir, "disk"),
    ML_MAX_UPLOAD_BYTES: String(total * 2)
  })
  servers.s3 = await startServerProcess({
    ML_MODEL_STORAGE_DIR: path.join(runDir, "s3"),
    ML_MAX_UPLOAD_BYTES: String(total * 2),
    ML_ARTIFACT_URL: `s3://${s3.bucket}/bench`,
    ML_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey
  })
  for (const { url } of Object.values(servers)) {
    for (let i = 0; i < 20; i++) await (await fetch(`${url}/healthz`)).text()
  }
  const idleRss = {}
  for (const mode of ["disk", "s3"]) idleRss[mode] = await procStatus(servers[mode].child.pid, "VmRSS")
  const cases = [
    ["disk", "disk", undefined],
    ["s3", "s3", undefined],
    ["s3, digest declared", "s3", declared]
  ]
  const results = Object.fromEntries(
    [...cases, ["s3rver alone"]].map(([name]) => [name, { upload: [], download: [] }])
  )
  const client = S3Client.make({
    endpoint: s3.endpoint,
    region: "us-east-1",
    bucket: s3.bucket,
    forcePathStyle: true,
    credentials: s3rverCredentials
  })
  // Alternate the modes round by round, so machine load drifts hit all alike.
  for (let round = 0; round < rounds; round++) {
    for (const [name, mode, digest] of cases) {
      const { downloadMs, uploadMs } = await timedArtifactRoundTrip(servers[mode].url, total, block, undefined, digest)
      results[name].upload.push(uploadMs)
      results[name].download.push(downloadMs)
    }
    const alone = await s3rverAlone(client)
    results["s3rver alone"].upload.push(alone.uploadMs)
    results["s3rver alone"].download.push(alone.downloadMs)
  }
  console.log(`artifact round trip, ${sizeMiB} MiB, median of ${rounds}, MiB/s through the server process`)
  for (const op of ["upload", "download"]) {
    const disk = rate(median(results.disk[op]))
    for (const [name] of [...cases.slice(1), ["s3rver alone"]]) {
      const bucket = rate(median(results[name][op]))
      console.log(
        `  ${op.padEnd(8)} disk ${disk.toFixed(0).padStart(5)}  ${name.padEnd(19)} ${bucket.toFixed(0).padStart(5)}  ` +
          `ratio s3/disk ${(bucket / disk).toFixed(2)}`
      )
    }
  }
  for (const mode of ["disk", "s3"]) {
    const growth = (await procStatus(servers[mode].child.pid, "VmHWM")) - idleRss[mode]
    console.log(`  ${mode} server process peak RSS growth: ${(growth / 1024 / 1024).toFixed(1)} MiB`)
  }
} finally {
  await Promise.all(Object.values(servers).map((server) => server.stop()))
  await s3.stop()
  await fs.rm(runDir, { recursive: true, force: true })
}
