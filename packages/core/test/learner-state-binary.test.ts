/**
 * Learner state format 2 (sparse binary): every learner kind predicts exactly as before after a
 * save and load, format-1 files written by earlier releases still load, and damaged or cut
 * format-2 bytes are refused with an error naming the damaged part.
 */
import { describe, expect, it } from "vitest"
import {
  decodeLearnerState,
  encodeLearnerState,
  fnv1a32,
  isBinaryLearnerState,
  type LearnerConfig,
  LearnerStateFormatError,
  loadLearner,
  makeLearner,
  StatsInputError
} from "../src/index.js"
import { crc32 } from "../src/shared/Crc32.js"
import formatOne from "./fixtures/learner-format1-adagrad.json" with { type: "json" }
import layoutOne from "./fixtures/learner-format2-layout1.json" with { type: "json" }
import datasets from "./golden/datasets.json" with { type: "json" }

const row = (x: ReadonlyArray<number>) => Object.fromEntries(x.map((v, i) => [`x${i}`, v]))
const names = (d: number) => Array.from({ length: d }, (_, i) => `x${i}`)
const { x: cancerX, y: cancerY } = datasets.breastCancer
const { x: diabetesX, y: diabetesY } = datasets.diabetes

const optimizers: ReadonlyArray<LearnerConfig["optimizer"]> = [
  { type: "sgd", learningRate: 0.01, schedule: "invscaling", powerT: 0.25 },
  { type: "adagrad", learningRate: 0.1 },
  { type: "ftrl", alpha: 0.1, beta: 1, l1: 0.05, l2: 0.1 },
  { type: "pa", variant: "PA-II", C: 0.1 }
]
/** Every kind, optimizer, feature mapping and standardization setting a learner can have. */
const kinds: Array<LearnerConfig> = []
for (const kind of ["logistic", "linear"] as const) {
  for (const optimizer of optimizers) {
    if (optimizer.type === "pa" && kind === "linear") continue
    const features = [
      { type: "schema" as const, names: names(kind === "logistic" ? 30 : 10) },
      { type: "hashing" as const, bits: 12 }
    ]
    for (const f of features) {
      for (const standardize of [false, true]) kinds.push({ kind, optimizer, features: f, standardize })
    }
  }
}
const label = (c: LearnerConfig) =>
  `${c.kind} ${c.optimizer.type} ${c.features.type}${c.standardize ? " standardized" : ""}`

const trained = (config: LearnerConfig) => {
  const learner = makeLearner(config)
  const [X, Y] = config.kind === "logistic" ? [cancerX, cancerY] : [diabetesX, diabetesY]
  // Targets of the linear task are scaled to ~1 so plain SGD stays finite.
  X.slice(0, 300).forEach((x, i) =>
    learner.learn({ features: row(x), label: config.kind === "logistic" ? Y[i]! : Y[i]! / 100 })
  )
  return { learner, probes: X.slice(300).map(row) }
}

/** Rebuilds a format-2 file from its parts with a correct checksum, to reach the checks past it. */
const assemble = (header: unknown, body: Uint8Array): Uint8Array => {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const bytes = new Uint8Array(8 + json.length + body.length + 4)
  const view = new DataView(bytes.buffer)
  bytes.set([0x4d, 0x4c, 0x4c, 0x53], 0)
  view.setUint32(4, json.length, true)
  bytes.set(json, 8)
  bytes.set(body, 8 + json.length)
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true)
  return bytes
}
const partsOf = (bytes: Uint8Array) => {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)
  return {
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>,
    body: bytes.slice(8 + headerLength, bytes.length - 4)
  }
}
const failure = (f: () => unknown): LearnerStateFormatError => {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(LearnerStateFormatError)
    return error as LearnerStateFormatError
  }
  throw new Error("expected a LearnerStateFormatError")
}

describe("learner state format 2", () => {
  it.each(kinds.map((c) => [label(c), c] as const))(
    "%s: predicts identically and restores the same state after save and load",
    (_name, config) => {
      const { learner, probes } = trained(config)
      const bytes = encodeLearnerState(learner.state())
      expect(isBinaryLearnerState(bytes)).toBe(true)
      const loaded = loadLearner(bytes)
      for (const features of probes) expect(loaded.predict(features)).toBe(learner.predict(features))
      expect(loaded.state()).toEqual(learner.state())
      // Both continue learning identically: the optimizer state came back too.
      const next = { features: probes[0]!, label: config.kind === "logistic" ? 1 : 0.5 }
      learner.learn(next)
      loaded.learn(next)
      for (const features of probes) expect(loaded.predict(features)).toBe(learner.predict(features))
      // Stable bytes: the same state encodes to the same artifact.
      expect(encodeLearnerState(loadLearner(bytes).state())).toEqual(bytes)
    }
  )

  it("stores only touched slots: a 2^20-slot learner that saw 40 features is a few hundred bytes", () => {
    const learner = makeLearner({
      kind: "logistic",
      optimizer: { type: "adagrad", learningRate: 0.1 },
      features: { type: "hashing", bits: 20 }
    })
    for (let i = 0; i < 200; i++) {
      learner.learn({ features: Object.fromEntries(names(40).map((n, j) => [n, ((i * 7 + j) % 5) - 2])), label: i % 2 })
    }
    const slots = new Set(names(40).map((n) => learner.slotOf(n))).size
    const bytes = encodeLearnerState(learner.state())
    // Per slot at most a 3-byte gap and two doubles (weight, g2), plus the header and g2's bias entry.
    const { header } = partsOf(bytes)
    expect(header.slots).toBe(slots)
    expect(bytes.length).toBeLessThan(1000 + slots * (3 + 16))
    const loaded = loadLearner(bytes)
    const probe = Object.fromEntries(names(40).map((n) => [n, 1]))
    expect(loaded.predict(probe)).toBe(learner.predict(probe))
    // A view into a larger buffer (as Node's pooled Buffers are) reads the same.
    const padded = new Uint8Array(bytes.length + 3)
    padded.set(bytes, 3)
    expect(loadLearner(padded.subarray(3)).predict(probe)).toBe(learner.predict(probe))
  })

  it("keeps -0 and non-zero values at any slot, the last slot included", () => {
    const config: LearnerConfig = {
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: names(300) }
    }
    const weights = Array.from({ length: 300 }, (_, i) => (i === 0 ? -0 : i === 299 || i === 170 ? i / 7 : 0))
    const state = { ...makeLearner(config).state(), weights, bias: 0.25 }
    const restored = loadLearner(encodeLearnerState(state)).state()
    expect(Object.is(restored.weights[0], -0)).toBe(true)
    expect(restored.weights).toEqual(weights)
    expect(restored.bias).toBe(0.25)
  })

  it("CRC-32 is the IEEE polynomial's (check value of \"123456789\")", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })
})

describe("format 1 stays readable", () => {
  it("a committed format-1 file predicts what its weights say, and converts to format 2 unchanged", () => {
    // Written by the format-1 writer (JSON): hashed AdaGrad logistic regression, 2^6 slots.
    const bits = formatOne.config.features.bits
    const byHand = (features: Record<string, number>) => {
      let margin = formatOne.bias
      for (const [name, x] of Object.entries(features)) {
        margin += formatOne.weights[fnv1a32(name) & (2 ** bits - 1)]! * x
      }
      return 1 / (1 + Math.exp(-margin))
    }
    const fromObject = loadLearner(formatOne)
    const fromBytes = loadLearner(new TextEncoder().encode(JSON.stringify(formatOne)))
    const converted = loadLearner(encodeLearnerState(fromObject.state()))
    for (const x of cancerX.slice(300, 400)) {
      const expected = byHand(row(x))
      expect(Math.abs(fromObject.predict(row(x)) - expected)).toBeLessThanOrEqual(1e-12)
      expect(fromBytes.predict(row(x))).toBe(fromObject.predict(row(x)))
      expect(converted.predict(row(x))).toBe(fromObject.predict(row(x)))
    }
    expect(converted.state()).toEqual(fromObject.state())
  })

  it("bytes that are neither format name the state", () => {
    expect(() => loadLearner(new TextEncoder().encode("not json"))).toThrow(StatsInputError)
    expect(() => loadLearner(new TextEncoder().encode("not json"))).toThrow(/neither a binary learner state/)
  })
})

describe("damaged format-2 bytes are refused, naming the part", () => {
  const { learner } = trained(kinds.find((c) => c.optimizer.type === "adagrad" && c.features.type === "hashing")!)
  const bytes = encodeLearnerState(learner.state())
  const { body, header } = partsOf(bytes)

  it("truncated anywhere: length, with what the header describes", () => {
    // Cut inside the magic: not recognizably format 2 at all.
    expect(failure(() => decodeLearnerState(bytes.slice(0, 3))).part).toBe("magic")
    const cuts = [4, 7, 20, 48, Math.floor(bytes.length / 2), bytes.length - 5, bytes.length - 1]
    expect(cuts.map((cut) => [cut, failure(() => loadLearner(bytes.slice(0, cut))).part]))
      .toEqual(cuts.map((cut) => [cut, "length"]))
    expect(failure(() => loadLearner(bytes.slice(0, bytes.length - 1))).message).toMatch(/truncated/)
    const longer = new Uint8Array(bytes.length + 3)
    longer.set(bytes)
    expect(failure(() => loadLearner(longer)).message).toMatch(/3 bytes past the end/)
  })

  it("a flipped bit in the values, the slot list or the header: checksum", () => {
    // A flip in the header may break its JSON first; either way the state is refused by name.
    const flips = [bytes.length - 20, bytes.length - body.length - 4, 10]
    const parts = flips.map((at) => {
      const damaged = bytes.slice()
      damaged[at]! ^= 0x10
      return failure(() => loadLearner(damaged)).part
    })
    expect(parts).toEqual(["checksum", "checksum", "header"])
    const damaged = bytes.slice()
    damaged[bytes.length - 20]! ^= 1
    expect(failure(() => loadLearner(damaged)).message).toMatch(/CRC-32/)
  })

  it("a consistent but wrong header: header, naming the field", () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...header, formatVersion: 3 }, /formatVersion 3/],
      [{ ...header, steps: -1 }, /steps/],
      [{ ...header, bias: "x" }, /bias/],
      [{ ...header, slots: 2 ** 13 }, /more than the learner's 4096 slots/],
      [{ ...header, arrays: [{ name: "weights", length: 5 }] }, /length must be 4096 or 4097/],
      [{ ...header, arrays: [{ name: "__proto__", length: 4096 }] }, /must name weights/],
      [{ ...header, config: 7 }, /config is missing/]
    ]
    for (const [changed, message] of cases) {
      const error = failure(() => loadLearner(assemble(changed, body)))
      expect(error.part).toBe("header")
      expect(error.message).toMatch(message)
    }
    // The configuration is checked by the learner's own rules, naming its field.
    expect(() =>
      loadLearner(assemble({ ...header, config: { ...learner.config, features: { type: "hashing", bits: 40 } } }, body))
    )
      .toThrow(/features.bits/)
  })

  it("slots outside the learner or a slot list of the wrong length: slots", () => {
    const gap = new Uint8Array([0xff, 0xff, 0x7f]) // one slot at 2^21 - 1, past 4096
    const outside = assemble({ ...header, slots: 1, slotBytes: 3, arrays: [] }, gap)
    expect(failure(() => loadLearner(outside))).toMatchObject({ part: "slots" })
    expect(failure(() => loadLearner(outside)).message).toMatch(/outside the learner's 4096 slots/)
    const overlong = assemble(
      { ...header, slots: 1, slotBytes: 5, arrays: [] },
      new Uint8Array([0x80, 0x80, 0x80, 0x80, 0])
    )
    expect(failure(() => loadLearner(overlong)).message).toMatch(/more than 4 bytes/)
    const short = assemble({ ...header, slots: 2, slotBytes: 1, arrays: [] }, new Uint8Array([5]))
    expect(failure(() => loadLearner(short)).message).toMatch(/ends after 1 of 2 slots/)
  })
})

describe("per-array encodings", () => {
  it("files of the first format-2 writer (every array float64) load as their format-1 twins", () => {
    for (const { format1, format2Base64 } of layoutOne) {
      const bytes = Uint8Array.from(atob(format2Base64), (c) => c.charCodeAt(0))
      const fromBinary = loadLearner(bytes)
      const fromJson = loadLearner(format1)
      expect(fromBinary.state()).toEqual(fromJson.state())
      const [X] = format1.config.kind === "logistic" ? [cancerX] : [diabetesX]
      for (const x of X.slice(300, 340)) expect(fromBinary.predict(row(x))).toBe(fromJson.predict(row(x)))
      const again = encodeLearnerState(fromJson.state())
      if (format1.standardization === null) {
        // Without integral arrays this writer's bytes are the first writer's, byte for byte.
        expect(again).toEqual(bytes)
      } else {
        // Standardization's counts are now varints (a byte or two each) instead of 8-byte doubles.
        const { header } = partsOf(again)
        const counts = (header.arrays as Array<{ name: string; encoding?: string; bytes?: number }>)
          .find((a) => a.name === "standardization.count")!
        expect(counts.encoding).toBe("varint")
        const stored = header.slots as number
        expect(counts.bytes).toBeLessThanOrEqual(2 * stored)
        const headerGrowth = JSON.stringify(header).length - JSON.stringify(partsOf(bytes).header).length
        expect(bytes.length - again.length).toBe(8 * stored - counts.bytes! - headerGrowth)
        expect(loadLearner(again).state()).toEqual(fromJson.state())
      }
    }
  })

  it("integral arrays are varints, exact; -0 or a fraction keeps an array float64", () => {
    const config: LearnerConfig = {
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: names(4) }
    }
    const base = makeLearner(config).state()
    const encodingOf = (weights: Array<number>) => {
      const bytes = encodeLearnerState({ ...base, weights })
      expect(loadLearner(bytes).state().weights).toEqual(weights)
      expect(Object.is(loadLearner(bytes).state().weights[1], weights[1])).toBe(true)
      return (partsOf(bytes).header.arrays as Array<{ encoding?: string; bytes?: number }>)[0]
    }
    // 1 + 2 + 3 + 8 bytes: 2^53 - 1 takes eight 7-bit groups.
    expect(encodingOf([5, 300, 2 ** 20, Number.MAX_SAFE_INTEGER])).toEqual({
      name: "weights",
      length: 4,
      encoding: "varint",
      bytes: 14
    })
    expect(encodingOf([5, -0, 7, 1])!.encoding).toBeUndefined()
    expect(encodingOf([5, 1.5, 7, 1])!.encoding).toBeUndefined()
    expect(encodingOf([5, -1, 7, 1])!.encoding).toBeUndefined()
  })

  it("damaged varints or encodings are refused, naming the part", () => {
    const config: LearnerConfig = {
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: names(2) }
    }
    const bytes = encodeLearnerState({ ...makeLearner(config).state(), weights: [3, 200] })
    const { body, header } = partsOf(bytes)
    const weights = (header.arrays as Array<Record<string, unknown>>)[0]!
    expect(weights).toMatchObject({ encoding: "varint", bytes: 3 })
    const withArray = (array: Record<string, unknown>, values: ReadonlyArray<number>) =>
      assemble({ ...header, arrays: [array] }, new Uint8Array([...body.subarray(0, 2), ...values]))
    const cases: Array<[Uint8Array, string, RegExp]> = [
      [withArray({ ...weights, encoding: "float16" }, [3, 0xc8, 1]), "header", /encoding must be float64/],
      [withArray({ ...weights, bytes: 17 }, [3, 0xc8, 1]), "header", /bytes must be from 2 to 16/],
      [withArray({ ...weights, bytes: 4 }, [3, 0xc8, 1, 0]), "values", /4 bytes, its 2 values take 3/],
      [withArray({ ...weights, bytes: 2 }, [3, 0xc8]), "values", /ends after 1 of 2 values/],
      [
        withArray({ ...weights, bytes: 10 }, [3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1]),
        "values",
        /more than 8 bytes/
      ],
      [
        withArray({ ...weights, bytes: 9 }, [3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        "values",
        /past 2\^53 - 1/
      ]
    ]
    for (const [damaged, part, message] of cases) {
      const error = failure(() => loadLearner(damaged))
      expect([error.part, error.message]).toEqual([part, expect.stringMatching(message)])
    }
  })
})

describe("float32 precision", () => {
  const u = 2 ** -24
  /** The inputs the learner's weights multiply: the features, standardized as the learner does. */
  const inputsOf = (learner: ReturnType<typeof makeLearner>, features: Record<string, number>) => {
    const std = learner.state().standardization
    const inputs = new Map<number, number>()
    for (const [name, x] of Object.entries(features)) {
      if (x === 0) continue
      const slot = learner.slotOf(name)
      let t = x
      if (std) {
        const c = std.count[slot]!
        const sd = c > 1 ? Math.sqrt(std.m2[slot]! / (c - 1)) : 0
        t = sd > 0 ? (x - std.mean[slot]!) / sd : x - std.mean[slot]!
      }
      inputs.set(slot, (inputs.get(slot) ?? 0) + t)
    }
    return inputs
  }

  it.each(kinds.map((c) => [label(c), c] as const))(
    "%s: rounds weights, g2 and n to float32 only, and predicts within 2^-24 sum |w_i x_i|",
    (_name, config) => {
      const { learner, probes } = trained(config)
      const exact = learner.state()
      const bytes = encodeLearnerState(exact, { precision: "float32" })
      const encodings = Object.fromEntries(
        (partsOf(bytes).header.arrays as Array<{ name: string; encoding?: string }>).map((a) => [a.name, a.encoding])
      )
      expect(encodings).toEqual({
        ...(config.optimizer.type === "ftrl"
          ? { "accumulators.z": undefined, "accumulators.n": "float32" }
          : { weights: "float32" }),
        ...(config.optimizer.type === "adagrad" ? { "accumulators.g2": "float32" } : {}),
        ...(config.standardize
          ? { "standardization.count": "varint", "standardization.mean": undefined, "standardization.m2": undefined }
          : {})
      })
      const loaded = loadLearner(bytes)
      const rounded = loaded.state()
      // Each rounded value is the nearest float32 (Math.fround is IEEE round-to-nearest-even).
      const roundedArrays = [
        ...(config.optimizer.type === "ftrl" ? [] : [[exact.weights, rounded.weights]]),
        ...["g2", "n"].filter((k) => k in exact.accumulators).map((
          k
        ) => [exact.accumulators[k]!, rounded.accumulators[k]!])
      ]
      for (const [before, after] of roundedArrays) expect(after).toEqual(before!.map(Math.fround))
      if (exact.accumulators.z) expect(rounded.accumulators.z).toEqual(exact.accumulators.z)
      expect(rounded.standardization).toEqual(exact.standardization)
      // The bias is kept exact, except FTRL's, derived from the bias entries of z and (rounded) n.
      if (config.optimizer.type === "ftrl") {
        expect(Math.abs(rounded.bias - exact.bias)).toBeLessThanOrEqual(u * Math.abs(exact.bias))
      } else expect(rounded.bias).toBe(exact.bias)
      // The margin moves by at most 2^-24 (|b| + sum |w_i t_i|) (t: the standardized inputs), plus
      // the two float64 sums' own rounding; the probability by a quarter of that (sigmoid' <= 1/4).
      let worst = 0
      for (const features of probes) {
        const inputs = inputsOf(learner, features)
        let sum = Math.abs(exact.bias)
        for (const [slot, t] of inputs) sum += Math.abs(exact.weights[slot]! * t) + 2 ** -150 * Math.abs(t)
        const bound = (u + 4 * (inputs.size + 1) * 2 ** -53) * sum * (config.kind === "logistic" ? 0.25 : 1)
        const error = Math.abs(loaded.predict(features) - learner.predict(features))
        expect(error).toBeLessThanOrEqual(bound + 2 ** -53)
        worst = Math.max(worst, error)
      }
      // The artifact was rounded: some prediction moved.
      expect(worst).toBeGreaterThan(0)
      // Stable: a rounded state encodes to the same values (FTRL's header bias is the one derived
      // from the rounded n, which the loaded learner derives anyway).
      const again = encodeLearnerState(rounded, { precision: "float32" })
      if (config.optimizer.type === "ftrl") expect(loadLearner(again).state()).toEqual(rounded)
      else expect(again).toEqual(bytes)
      expect(bytes.length).toBeLessThan(encodeLearnerState(exact).length)
    }
  )

  it("an array with a value past float32's range stays float64, exact", () => {
    const config: LearnerConfig = {
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: names(3) }
    }
    const weights = [0.1, 1e39, -2.5e-300]
    const bytes = encodeLearnerState({ ...makeLearner(config).state(), weights }, { precision: "float32" })
    expect((partsOf(bytes).header.arrays as Array<{ encoding?: string }>)[0]!.encoding).toBeUndefined()
    expect(loadLearner(bytes).state().weights).toEqual(weights)
  })
})
