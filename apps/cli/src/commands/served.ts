/**
 * `ml served`: which model version served a user at an instant, through an experiment (its
 * definition then and the user's sticky assignment) or a model name's alias (production), with
 * the source and the explanation the server gives.
 */
import type { ServedModel } from "@org/ml-sdk"
import { Command } from "commander"
import { parseInstant, type Run, withExamples } from "../Context.js"
import { usageError } from "../ExitCodes.js"
import { record } from "../Output.js"

const servedText = (s: ServedModel) =>
  record({
    user: s.userId,
    at: s.at,
    model: `${s.name} ${s.version} (${s.modelId})`,
    source: s.source,
    ...(s.experimentId === undefined ? {} : { experiment: s.experimentId, variant: s.variant }),
    ...(s.definitionRevision === null ? {} : { revision: s.definitionRevision }),
    ...(s.alias === undefined ? {} : { alias: s.alias }),
    why: s.explanation
  })

const parseAttributes = (text: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {
    // Reported below, with the option's name.
  }
  throw usageError(`--attributes must be a JSON object, e.g. '{"country":"FR"}'; got ${JSON.stringify(text)}`)
}

export const servedCommand = (run: Run): Command =>
  withExamples(
    new Command("served")
      .description("which model version served a user at a time, through an experiment or an alias, and why")
      .requiredOption("--user <userId>", "user id")
      .requiredOption("--at <time>", "ISO 8601 time", parseInstant("--at"))
      .option("--experiment <experimentId>", "the experiment that assigned the user")
      .option("--model <name>", "a model name, with --alias")
      .option("--alias <alias>", "the alias of --model (default production)")
      .option("--attributes <json>", "the user's attributes (JSON object), when targeting reads them", parseAttributes)
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{
            user: string
            at: string
            experiment?: string
            model?: string
            alias?: string
            attributes?: Record<string, unknown>
          }>()
          if ((o.experiment === undefined) === (o.model === undefined)) {
            throw usageError("give --experiment or --model (not both)")
          }
          const served = await context.client.experiments.getServed({
            userId: o.user,
            at: o.at,
            experimentId: o.experiment,
            model: o.model,
            alias: o.alias,
            attributes: o.attributes
          })
          context.out.result(served, () => servedText(served))
        })
      }),
    "ml served --user alice --at 2026-06-01T12:00:00Z --experiment checkout-ranker",
    "ml served --user alice --at 2026-06-01T12:00:00Z --model churn --alias production"
  )
