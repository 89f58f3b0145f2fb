// Prints seededOutputs() as JSON (run by Node, Deno and Bun in the cross-runtime test).
import { seededOutputs } from "./seeded-outputs.mjs"

console.log(JSON.stringify(seededOutputs()))
