// Prints sdkScenario(url, prefix) as JSON (run by Deno and Bun in the cross-runtime test).
import { sdkScenario } from "./sdk-scenario.mjs"

const [url, prefix] = typeof Deno === "object" ? Deno.args : process.argv.slice(2)
console.log(JSON.stringify(await sdkScenario(url, prefix)))
