// Records sampler draws to samplers.json (from packages/core): deno run -A test/golden/record-samplers.ts
import { samplerDraws } from "./samplerDraws.js"

declare const Deno: { writeTextFileSync: (path: string, text: string) => void }
Deno.writeTextFileSync(
  new URL("./samplers.json", import.meta.url).pathname,
  JSON.stringify(samplerDraws(), null, 1) + "\n"
)
