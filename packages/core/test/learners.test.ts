/**
 * Online learners against independent references (test/golden/generate_learners.py):
 * scikit-learn's SGDClassifier / SGDRegressor fed the same stream with partial_fit, and
 * transcriptions of the FTRL-Proximal and AdaGrad update rules.
 */
import { describe, expect, it } from "vitest"
import { type LearnerConfig, loadLearner, makeLearner, StatsInputError } from "../src/index.js"
import datasets from "./golden/datasets.json" with { type: "json" }
import reference from "./golden/learners.json" with { type: "json" }

const names = (d: number) => Array.from({ length: d }, (_, i) => `x${i}`)
const row = (x: ReadonlyArray<number>) => Object.fromEntries(x.map((v, i) => [`x${i}`, v]))
const { x: cancerX, y: cancerY } = datasets.breastCancer
const { x: diabetesX, y: diabetesY } = datasets.diabetes

const expectClose = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>, tolerance: number) => {
  expect(actual).toHaveLength(expected.length)
  actual.forEach((a, i) => {
    if (Math.abs(a - expected[i]!) > tolerance * Math.max(1, Math.abs(expected[i]!))) {
      throw new Error(`index ${i}: ${a} vs ${expected[i]}`)
    }
  })
}

describe("learners match their references", () => {
  it("SGD logistic regression equals scikit-learn's SGDClassifier(log_loss), progressive validation too", () => {
    const learner = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: reference.logistic.eta0 },
      features: { type: "schema", names: names(cancerX[0]!.length) }
    })
    let correct = 0
    let logLoss = 0
    cancerX.forEach((x, i) => {
      if (i > 0) {
        const p = Math.min(1 - 1e-15, Math.max(1e-15, learner.predict(row(x))))
        const y = cancerY[i]!
        correct += (p >= 0.5) === (y === 1) ? 1 : 0
        logLoss -= y * Math.log(p) + (1 - y) * Math.log(1 - p)
      }
      learner.learn({ features: row(x), label: cancerY[i]! })
    })
    const state = learner.state()
    expectClose([...state.weights, state.bias], [...reference.logistic.coef, reference.logistic.intercept], 1e-9)
    const n = cancerX.length - 1
    expect(Math.abs(correct / n - reference.logistic.progressive.accuracy)).toBeLessThanOrEqual(0.01)
    expect(Math.abs(logLoss / n - reference.logistic.progressive.logLoss)).toBeLessThanOrEqual(0.01)
  })

  it("SGD linear regression equals scikit-learn's SGDRegressor(squared_error)", () => {
    const learner = makeLearner({
      kind: "linear",
      optimizer: { type: "sgd", learningRate: reference.linear.eta0 },
      features: { type: "schema", names: names(diabetesX[0]!.length) }
    })
    diabetesX.forEach((x, i) => learner.learn({ features: row(x), label: diabetesY[i]! }))
    const state = learner.state()
    expectClose([...state.weights, state.bias], [...reference.linear.coef, reference.linear.intercept], 1e-9)
  })

  it("FTRL-Proximal and AdaGrad follow their published update rules", () => {
    const schema = { type: "schema", names: names(cancerX[0]!.length) } as const
    const ftrl = makeLearner({
      kind: "logistic",
      optimizer: {
        type: "ftrl",
        alpha: reference.ftrl.alpha,
        beta: reference.ftrl.beta,
        l1: reference.ftrl.l1,
        l2: reference.ftrl.l2
      },
      features: schema
    })
    const adagrad = makeLearner({
      kind: "logistic",
      optimizer: { type: "adagrad", learningRate: reference.adagrad.learningRate, epsilon: reference.adagrad.epsilon },
      features: schema
    })
    cancerX.forEach((x, i) => {
      ftrl.learn({ features: row(x), label: cancerY[i]! })
      adagrad.learn({ features: row(x), label: cancerY[i]! })
    })
    expectClose([...ftrl.state().weights, ftrl.state().bias], reference.ftrl.weights, 1e-9)
    expectClose([...adagrad.state().weights, adagrad.state().bias], reference.adagrad.weights, 1e-9)
    expect(ftrl.state().weights.filter((w) => w === 0).length).toBeGreaterThan(0) // L1 sparsity
  })
})

describe("learner behaviour", () => {
  const configs: Array<LearnerConfig> = [
    {
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.05, schedule: "invscaling", powerT: 0.25 },
      features: { type: "hashing", bits: 10 },
      standardize: true
    },
    {
      kind: "logistic",
      optimizer: { type: "pa", variant: "PA-I", C: 0.1 },
      features: { type: "schema", names: names(30) }
    },
    { kind: "logistic", optimizer: { type: "pa", variant: "PA-II", C: 0.1 }, features: { type: "hashing", bits: 8 } },
    {
      kind: "logistic",
      optimizer: { type: "ftrl", alpha: 0.1, beta: 1, l1: 0.1, l2: 0.1 },
      features: { type: "hashing", bits: 12 },
      standardize: true
    }
  ]

  it.each(configs.map((c) => [`${c.optimizer.type} ${c.features.type}`, c] as const))(
    "%s learns the task and predicts identically after a round trip",
    (_name, config) => {
      const learner = makeLearner(config)
      cancerX.slice(0, 400).forEach((x, i) =>
        learner.learn({ features: row(x), label: cancerY[i]!, weight: i % 7 === 0 ? 2 : 1 })
      )
      const test = cancerX.slice(400)
      const accuracy = test.filter((x, i) => (learner.predict(row(x)) >= 0.5) === (cancerY[400 + i] === 1)).length /
        test.length
      expect(accuracy).toBeGreaterThan(0.85)
      const restored = loadLearner(JSON.parse(JSON.stringify(learner.state())))
      for (const x of test) expect(restored.predict(row(x))).toBe(learner.predict(row(x)))
    }
  )

  it.each(configs.map((c) => [`${c.optimizer.type} ${c.features.type}`, c] as const))(
    "%s learns identically from vectors (learnVector) as from names",
    (_name, config) => {
      const byName = makeLearner(config)
      const byVector = makeLearner(config)
      const slots = Int32Array.from(names(30), (name) => byVector.slotOf(name))
      const vector = (x: ReadonlyArray<number>) => (config.features.type === "schema"
        ? { values: Float64Array.from(x) }
        : { slots, values: Float64Array.from(x) })
      cancerX.slice(0, 400).forEach((x, i) => {
        byName.learn({ features: row(x), label: cancerY[i]!, weight: i % 7 === 0 ? 2 : 1 })
        byVector.learnVector(vector(x), cancerY[i]!, i % 7 === 0 ? 2 : 1)
      })
      expect(byVector.state()).toEqual(byName.state())
      for (const x of cancerX.slice(400)) {
        expect(byVector.predictVector(vector(x))).toBe(byName.predict(row(x)))
      }
    }
  )

  it("learnVector on dense rows reproduces scikit-learn's SGDClassifier too", () => {
    const learner = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: reference.logistic.eta0 },
      features: { type: "schema", names: names(cancerX[0]!.length) }
    })
    cancerX.forEach((x, i) => learner.learnVector({ values: Float64Array.from(x) }, cancerY[i]!))
    const state = learner.state()
    expectClose([...state.weights, state.bias], [...reference.logistic.coef, reference.logistic.intercept], 1e-9)
  })

  it("maps names to schema slots whatever their order; unknown names are ignored, missing ones are 0", () => {
    const learner = makeLearner({
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.01 },
      features: { type: "schema", names: ["a", "b", "c"] }
    })
    for (let i = 0; i < 50; i++) learner.learn({ features: { a: i % 3, b: (i % 5) - 2, c: 1 }, label: i % 4 })
    const { weights, bias } = learner.state()
    const expected = (a: number, b: number, c: number) => weights[0]! * a + weights[1]! * b + weights[2]! * c + bias
    expect(learner.predict({ a: 1, b: 2, c: 3 })).toBeCloseTo(expected(1, 2, 3), 12)
    expect(learner.predict({ c: 3, b: 2, a: 1 })).toBeCloseTo(expected(1, 2, 3), 12)
    expect(learner.predict({ b: 2, zzz: 9, a: 1 })).toBeCloseTo(expected(1, 2, 0), 12)
    expect(learner.predict({ a: 1, b: 2, c: 3 })).toBeCloseTo(expected(1, 2, 3), 12)
    expect(learner.slotOf("c")).toBe(2)
    expect(learner.slotOf("zzz")).toBe(-1)
  })

  it("hashes names to slots with 32-bit FNV-1a masked to the bits (the published FNV test vectors)", () => {
    const hashed = makeLearner({
      kind: "linear",
      optimizer: { type: "sgd", learningRate: 0.01 },
      features: { type: "hashing", bits: 24 }
    })
    // http://www.isthe.com/chongo/src/fnv/test_fnv.c: FNV1a 32 of "a" and "foobar".
    expect(hashed.slotOf("a")).toBe(0xe40c292c & 0xffffff)
    expect(hashed.slotOf("foobar")).toBe(0xbf9cf968 & 0xffffff)
  })

  it("refuses unknown formats, bad labels, weights and features with typed errors", () => {
    const learner = makeLearner(configs[0]!)
    const field = (f: () => unknown) => {
      try {
        f()
      } catch (error) {
        expect(error).toBeInstanceOf(StatsInputError)
        return (error as StatsInputError).field
      }
      throw new Error("expected an error")
    }
    expect(field(() => loadLearner({ ...learner.state(), formatVersion: 2 }))).toBe("state.formatVersion")
    expect(field(() => learner.learn({ features: { a: 1 }, label: 0.5 }))).toBe("label")
    expect(field(() => learner.learn({ features: { a: 1 }, label: 1, weight: 0 }))).toBe("weight")
    expect(field(() => learner.learn({ features: { a: Number.NaN }, label: 1 }))).toBe("features.a")
    expect(field(() => learner.learnVector({ values: Float64Array.of(1) }, 1))).toBe("slots")
    expect(field(() => learner.learnVector({ slots: Int32Array.of(1, 2), values: Float64Array.of(1) }, 1))).toBe(
      "slots"
    )
    expect(field(() => learner.learnVector({ slots: Int32Array.of(1, 1024), values: Float64Array.of(1, 2) }, 1))).toBe(
      "slots.1"
    )
    expect(
      field(() => learner.learnVector({ slots: Int32Array.of(1, 2, 3), values: Float64Array.of(1, 2, Infinity) }, 1))
    ).toBe("values.2")
    expect(field(() => learner.learnVector({ slots: Int32Array.of(1), values: [1] as unknown as Float64Array }, 1)))
      .toBe("values")
    const schemaLearner = makeLearner(configs[1]!)
    expect(field(() => schemaLearner.learnVector({ values: new Float64Array(29) }, 1))).toBe("values")
    expect(field(() => schemaLearner.predictVector({ values: new Float64Array(30).fill(Number.NaN) }))).toBe("values.0")
    // Bad values are found before anything is written, on fresh (zero) weights and trained ones alike.
    const before = JSON.stringify(schemaLearner.state())
    const row = (at: number, x: number) => Float64Array.from({ length: 30 }, (_, j) => (j === at ? x : 0.5))
    expect(field(() => schemaLearner.learnVector({ values: row(7, Infinity) }, 1))).toBe("values.7")
    expect(JSON.stringify(schemaLearner.state())).toBe(before)
    schemaLearner.learnVector({ values: row(0, 1) }, 0)
    const trained = JSON.stringify(schemaLearner.state())
    expect(trained).not.toBe(before)
    expect(field(() => schemaLearner.learnVector({ values: row(29, -Infinity) }, 1))).toBe("values.29")
    expect(
      field(() => schemaLearner.learnVector({ slots: Int32Array.of(3, 4), values: Float64Array.of(1, Number.NaN) }, 1))
    ).toBe("values.1")
    expect(JSON.stringify(schemaLearner.state())).toBe(trained)
    expect(
      field(() =>
        makeLearner({
          kind: "linear",
          optimizer: { type: "pa", variant: "PA-I", C: 1 },
          features: { type: "hashing", bits: 4 }
        })
      )
    ).toBe("optimizer.type")
    expect(
      field(() =>
        makeLearner({
          kind: "linear",
          optimizer: { type: "sgd", learningRate: 0 },
          features: { type: "hashing", bits: 4 }
        })
      )
    ).toBe("optimizer.learningRate")
  })
})
