// A Deno script using @org/ml-sdk: checks drift on a monitor and prints each feature's verdict.
//
//   deno run --allow-net --allow-env main.ts <monitor id>      (ML_URL, optional ML_TOKEN)
import { createClient } from "@org/ml-sdk"

declare const Deno: { args: Array<string>; env: { get(name: string): string | undefined }; exit(code: number): never }

const monitorId = Deno.args[0]
if (monitorId === undefined) {
  console.error("usage: main.ts <monitor id>")
  Deno.exit(2)
}
const token = Deno.env.get("ML_TOKEN")
const ml = createClient({ baseUrl: Deno.env.get("ML_URL") ?? "http://127.0.0.1:8080", ...(token ? { token } : {}) })
const report = await ml.drift.check(monitorId)
for (const feature of report.features) {
  console.log(`${feature.feature}\t${feature.severity}\t${feature.windowCount}`)
}
