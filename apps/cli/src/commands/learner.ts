/**
 * `ml learner init`: a fresh learner state made by the core's own constructor, so it is exactly
 * what the server loads: format 1 (JSON, the default) or, with --format 2, the sparse binary
 * format that pipelines publish (an untrained hashed learner is then a few hundred bytes instead
 * of 2^bits zeros), with --precision float32 for rounded weights. Register it as a model's artifact, then create a
 * pipeline on that model. The core is loaded only for this command (the others need only the SDK).
 */
import { Command, Option } from "commander"
import * as fs from "node:fs/promises"
import { parseInteger, parseList, parseNumber, type Run, withExamples } from "../Context.js"
import { CliError, usageError } from "../ExitCodes.js"

interface InitOptions {
  kind: "logistic" | "linear"
  features?: string
  hashing?: number
  optimizer: "sgd" | "adagrad" | "ftrl" | "pa"
  learningRate: number
  schedule?: "constant" | "invscaling"
  alpha: number
  beta: number
  l1: number
  l2: number
  paVariant: "PA-I" | "PA-II"
  paC: number
  standardize?: boolean
  format: "1" | "2"
  precision: "float64" | "float32"
  out?: string
}

const optimizerOf = (o: InitOptions) => {
  switch (o.optimizer) {
    case "sgd":
      return { type: "sgd" as const, learningRate: o.learningRate, ...(o.schedule ? { schedule: o.schedule } : {}) }
    case "adagrad":
      return { type: "adagrad" as const, learningRate: o.learningRate }
    case "ftrl":
      return { type: "ftrl" as const, alpha: o.alpha, beta: o.beta, l1: o.l1, l2: o.l2 }
    case "pa":
      return { type: "pa" as const, variant: o.paVariant, C: o.paC }
  }
}

export const learnerCommand = (run: Run): Command => {
  const learner = withExamples(
    new Command("learner").description("online learners: make the initial state a pipeline starts from"),
    "ml learner init --kind logistic --features amount,age > learner.json"
  )
  learner.addCommand(withExamples(
    new Command("init")
      .description("print an untrained learner's state (JSON, or binary with --format 2) to stdout or --out")
      .addOption(
        new Option("--kind <kind>", "logistic (labels 0/1) or linear").choices(["logistic", "linear"])
          .makeOptionMandatory()
      )
      .option("--features <names>", "feature names, comma-separated (a fixed schema)")
      .option("--hashing <bits>", "hash feature names into 2^bits slots instead (1-24)", parseInteger("--hashing"))
      .addOption(new Option("--optimizer <type>", "optimizer").choices(["sgd", "adagrad", "ftrl", "pa"]).default("sgd"))
      .option("--learning-rate <rate>", "sgd/adagrad step size", parseNumber("--learning-rate"), 0.05)
      .addOption(new Option("--schedule <schedule>", "sgd schedule").choices(["constant", "invscaling"]))
      .option("--alpha <alpha>", "ftrl alpha", parseNumber("--alpha"), 0.1)
      .option("--beta <beta>", "ftrl beta", parseNumber("--beta"), 1)
      .option("--l1 <l1>", "ftrl L1", parseNumber("--l1"), 0)
      .option("--l2 <l2>", "ftrl L2", parseNumber("--l2"), 0)
      .addOption(
        new Option("--pa-variant <variant>", "passive-aggressive variant").choices(["PA-I", "PA-II"]).default("PA-I")
      )
      .option("--pa-c <C>", "passive-aggressive aggressiveness C", parseNumber("--pa-c"), 1)
      .option("--standardize", "standardize features online")
      .addOption(
        new Option("--format <version>", "1: JSON; 2: sparse binary (what pipelines publish)").choices(["1", "2"])
          .default("1")
      )
      .addOption(
        new Option("--precision <precision>", "format 2 values: float64 (exact) or float32 (rounded weights)")
          .choices(["float64", "float32"]).default("float64")
      )
      .option("--out <file>", "write to a file instead of stdout")
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<InitOptions>()
          if ((o.features === undefined) === (o.hashing === undefined)) {
            throw usageError("give one of --features a,b,... or --hashing BITS")
          }
          if (o.precision !== "float64" && o.format !== "2") throw usageError("--precision needs --format 2")
          const config = {
            kind: o.kind,
            optimizer: optimizerOf(o),
            features: o.features !== undefined
              ? { type: "schema" as const, names: parseList(o.features) }
              : { type: "hashing" as const, bits: o.hashing! },
            ...(o.standardize ? { standardize: true } : {})
          }
          const { encodeLearnerState, makeLearner } = await import("@org/ml-core")
          let output: string | Uint8Array
          try {
            const state = makeLearner(config).state()
            output = o.format === "2"
              ? encodeLearnerState(state, { precision: o.precision })
              : `${JSON.stringify(state)}\n`
          } catch (error) {
            // The core names the field and the limit (StatsInputError): an option value is wrong.
            throw usageError((error as Error).message)
          }
          if (o.out !== undefined) {
            await fs.writeFile(o.out, output).catch((error: Error) => {
              throw new CliError(`cannot write ${o.out}: ${error.message}`)
            })
            context.out.note(`wrote ${o.out}`)
          } else context.streams.stdout.write(output)
        })
      }),
    "ml learner init --kind logistic --features amount,age --optimizer adagrad --learning-rate 0.1 > learner.json",
    "ml learner init --kind linear --hashing 18 --optimizer ftrl --alpha 0.05 --out learner.json",
    "ml learner init --kind logistic --hashing 20 --format 2 --out learner.bin",
    "ml learner init --kind logistic --hashing 20 --format 2 --precision float32 --out learner.bin"
  ))
  return learner
}
