// An s3rver (a real S3-protocol server; it checks access keys, not SigV4 signatures) in its own process, so its
// memory and CPU are not the measured process's. Usage: node s3rver-process.mjs <directory> <bucket>
// Prints one JSON line {"port":N} when listening on 127.0.0.1; exits when stdin closes.
import process from "node:process"
import S3rver from "s3rver"

const [directory, bucket] = process.argv.slice(2)
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket }]
})
const { port } = await server.run()
process.stdout.write(JSON.stringify({ port }) + "\n")
process.stdin.resume()
process.stdin.on("end", () => server.close().finally(() => process.exit(0)))
process.stdin.on("error", () => process.exit(0))
