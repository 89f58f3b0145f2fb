import { apiErrorTags, problem, problemKinds } from "@org/ml-api"
import type { AuditEvent, ListModelsQuery, Model, ModelPage, RegisterModelInput, UpdateModelInput } from "@org/ml-core"
import type * as Core from "@org/ml-core"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { errorClasses, errorFromResponse, MlApiError, type MlClient } from "../src/index.js"

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..")
/** Import or export statements that load a module at run time (not `import type`). */
const runtimeImports = /^\s*(?:import|export)\s+(?!type\b)[^;]*?from\s+"(effect|@org\/[^"]+)"/gm

/** Compiles only when A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Registry = MlClient["registry"]
type Answer<M extends keyof Registry> = Registry[M] extends (...args: any) => Promise<infer A> ? A : never

// The registry methods' types come from the endpoint tables; they are the core's types, as before.
export const sameTypesAsBefore: Array<true> = [
  true satisfies Same<Answer<"getModel">, Model>,
  true satisfies Same<Answer<"listModelsPage">, ModelPage>,
  true satisfies Same<Answer<"getHistory">, ReadonlyArray<AuditEvent>>,
  true satisfies Same<Parameters<Registry["registerModel"]>[0], RegisterModelInput>,
  true satisfies Same<Parameters<Registry["updateModel"]>[1], UpdateModelInput>,
  true satisfies Same<NonNullable<Parameters<Registry["listModelsPage"]>[0]>, ListModelsQuery>
]

type Drift = MlClient["drift"]
type DriftAnswer<M extends keyof Drift> = Drift[M] extends (...args: any) => Promise<infer A> ? A : never

// The drift methods' types come from the Drift table; they are the core's types, as before.
export const sameDriftTypesAsBefore: Array<true> = [
  true satisfies Same<DriftAnswer<"getMonitor">, Core.Monitor>,
  true satisfies Same<DriftAnswer<"check">, Core.DriftReport>,
  true satisfies Same<DriftAnswer<"getFalseAlarms">, Core.FalseAlarmFigures>,
  true satisfies Same<DriftAnswer<"getDriftReports">, ReadonlyArray<Core.DriftReport>>,
  true satisfies Same<Parameters<Drift["createMonitor"]>[0], Core.CreateMonitorInput>,
  true satisfies Same<Parameters<Drift["webhooks"]["create"]>[0], Core.CreateWebhookInput>,
  true satisfies Same<Awaited<ReturnType<Drift["webhooks"]["list"]>>, ReadonlyArray<Core.PublicWebhook>>
]

describe("the SDK against the contract", () => {
  it.each(apiErrorTags)("raises its own error class for %s", async (tag) => {
    const body = problem(tag, "detail")
    const error = await errorFromResponse(
      new Response(JSON.stringify(body), {
        status: problemKinds[tag].status,
        headers: { "content-type": "application/problem+json" }
      })
    )
    expect(error).toBeInstanceOf(errorClasses[tag])
    expect(error.constructor).not.toBe(MlApiError)
    expect(error).toMatchObject({ code: tag, status: problemKinds[tag].status })
  })

  it("imports from the core and the contract only types, and its Effect-free modules (which import nothing)", () => {
    const effectFree = ["@org/ml-core/assignment", "@org/ml-core/targeting", "@org/ml-core/webhook-signature"]
    const sources = fs.readdirSync(path.join(root, "src")).filter((f) => f.endsWith(".ts"))
    for (const file of sources) {
      const text = fs.readFileSync(path.join(root, "src", file), "utf8")
      const found = [...text.matchAll(runtimeImports)].map((m) => m[1])
      expect(found.filter((specifier) => !effectFree.includes(specifier!)), file).toEqual([])
    }
    const signatures = fs.readFileSync(path.join(root, "../../packages/core/src/drift/WebhookSignature.ts"), "utf8")
    expect([...signatures.matchAll(/^import /gm)]).toEqual([])
  })

  it.skipIf(!fs.existsSync(path.join(root, "dist/index.js")))("loads no Effect module at run time (built dist)", () => {
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const text = fs.readFileSync(file, "utf8")
      for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)) {
        visit(createRequire(file).resolve(specifier!))
      }
    }
    visit(path.join(root, "dist/index.js"))
    expect([...seen].filter((file) => /[\\/]effect[\\/]/.test(file))).toEqual([])
    expect(seen.size).toBeGreaterThan(5)
  })
})
