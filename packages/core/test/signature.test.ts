/**
 * Signatures (registry/Signature.ts): the rules the schema states (unique names, ranges only on
 * number and integer columns with min <= max, categories only on category columns, bounds), each
 * refusal naming its field; the compiled per-value checks; and the features a monitor takes from
 * a signature (drift/SignatureFeatures.ts).
 */
import { Effect, Exit, Result } from "effect"
import { describe, expect, it } from "vitest"
import {
  decodeInput,
  RegisterModelInput,
  resolveMonitorFeatures,
  type Signature,
  signatureChecker
} from "../src/index.js"
import { sampleModel } from "../src/testing/index.js"

const decode = (signature: unknown) =>
  Effect.runSyncExit(
    decodeInput(RegisterModelInput, "model metadata")({
      name: "m",
      version: "1",
      algorithm: "a",
      framework: "f",
      signature
    })
  )

const issues = (
  exit: Exit.Exit<unknown, { issues: ReadonlyArray<{ path: ReadonlyArray<unknown>; message: string }> }>
) =>
  Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail"
    ? exit.cause.reasons[0].error.issues.map((i) => `${i.path.join(".")}: ${i.message}`)
    : []

describe("Signature schema", () => {
  it("accepts every type with ranges and categories where they apply", () => {
    const signature: Signature = {
      inputs: [
        { name: "amount", type: "number", range: [-1.5, 1e6] },
        { name: "n", type: "integer", range: [0, 0] },
        { name: "flag", type: "boolean" },
        { name: "note", type: "string" },
        { name: "country", type: "category", categories: ["DE"] }
      ],
      outputs: [{ name: "score", type: "number" }]
    }
    expect(Exit.isSuccess(decode(signature))).toBe(true)
  })

  it("refuses repeated names, misplaced or inverted ranges, misplaced categories and an empty input list", () => {
    expect(issues(decode({
      inputs: [
        { name: "a", type: "number", range: [2, 1] },
        { name: "a", type: "string", range: [0, 1] },
        { name: "b", type: "integer", categories: ["x"] }
      ],
      outputs: [{ name: "s", type: "number" }, { name: "s", type: "number" }]
    }))).toEqual([
      "signature.inputs.0.range: must be [min, max] with min <= max",
      "signature.inputs.1.name: repeats column a",
      "signature.inputs.1.range: applies only to number or integer columns, not string",
      "signature.inputs.2.categories: applies only to category columns, not integer",
      "signature.outputs.1.name: repeats column s"
    ])
    expect(issues(decode({ inputs: [] }))).toEqual(["signature.inputs: must declare at least one input"])
    expect(issues(decode({ inputs: [{ name: "a", type: "tensor" }] }))[0]).toMatch(/^signature\.inputs\.0\.type: /)
  })

  it("bounds columns and categories", () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({ name: `c${i}`, type: "number" }))
    expect(issues(decode({ inputs: many }))).toEqual(["signature.inputs: must declare at most 1000 columns"])
    const categories = Array.from({ length: 1001 }, (_, i) => `k${i}`)
    expect(issues(decode({ inputs: [{ name: "c", type: "category", categories }] }))).toEqual([
      "signature.inputs.0.categories: must list at most 1000 categories"
    ])
  })
})

describe("signatureChecker", () => {
  const signature: Signature = {
    inputs: [
      { name: "x", type: "number", range: [0, 1] },
      { name: "n", type: "integer" },
      { name: "b", type: "boolean" },
      { name: "c", type: "category", categories: ["a", "b"] },
      { name: "s", type: "string" }
    ]
  }

  it("checks each value against its column, naming the limit", () => {
    const check = signatureChecker(signature)
    expect([0, 1, 0.5].map(check.get("x")!)).toEqual([undefined, undefined, undefined])
    expect(check.get("x")!(1.01)).toBe("must be within the signature's range [0, 1], got 1.01")
    expect(check.get("x")!("1")).toBe("must be a number (signature type number), got \"1\"")
    expect(check.get("n")!(3)).toBeUndefined()
    expect(check.get("n")!(3.5)).toBe("must be an integer (signature type integer), got 3.5")
    expect(check.get("b")!(1)).toBeUndefined()
    expect(check.get("b")!(true)).toBe("must be 0 or 1 (signature type boolean), got true")
    expect(check.get("c")!("a")).toBeUndefined()
    expect(check.get("c")!("z")).toBe("must be one of the signature's categories (\"a\", \"b\"), got \"z\"")
    expect(check.get("s")!("anything")).toBeUndefined()
    expect(check.get("s")!(1)).toBe("must be a string (signature type string), got 1")
  })

  it("compiles once per signature object", () => {
    expect(signatureChecker(signature)).toBe(signatureChecker(signature))
    expect(signatureChecker({ ...signature })).not.toBe(signatureChecker(signature))
  })
})

describe("resolveMonitorFeatures", () => {
  it("names a signature column that cannot be a monitor feature", () => {
    const model = sampleModel({ signature: { inputs: [{ name: "sepal length (cm)", type: "number" }] } })
    const resolved = resolveMonitorFeatures({ modelId: model.id }, model)
    expect(Result.isFailure(resolved) && resolved.failure[0]?.message).toMatch(
      /^cannot be taken from the signature: column "sepal length \(cm\)" is not a monitor feature name/
    )
  })

  it("asks for features when the model declares no signature", () => {
    const model = sampleModel()
    const resolved = resolveMonitorFeatures({ modelId: model.id }, model)
    expect(Result.isFailure(resolved) && resolved.failure).toEqual([
      { path: ["features"], message: `is required: model ${model.name}@${model.version} declares no signature` }
    ])
  })
})
