/**
 * `ml registered-models`: the named models every version belongs to (description, owner,
 * key-value tags, protected aliases), shown with their newest version per status and their
 * aliases; `archive` archives every version at once. Aliases themselves are `ml models alias`.
 */
import type { RegisteredModel, RegisteredModelDetail } from "@org/ml-sdk"
import { Command } from "commander"
import { collect, parseInteger, parseList, type Run, withExamples } from "../Context.js"
import { usageError } from "../ExitCodes.js"
import { record, table } from "../Output.js"

/** `key=value` tags (repeatable or comma-separated). */
const parseTags = (entries: ReadonlyArray<string>): Record<string, string> => {
  const tags: Record<string, string> = {}
  for (const entry of entries.flatMap(parseList)) {
    const at = entry.indexOf("=")
    if (at <= 0) throw usageError(`--tag takes key=value, got "${entry}"`)
    tags[entry.slice(0, at)] = entry.slice(at + 1)
  }
  return tags
}

interface MetadataOptions {
  description?: string
  owner?: string
  tag: Array<string>
  protectedAlias: Array<string>
}

const metadataOptions = (command: Command) =>
  command
    .option("--description <text>", "description")
    .option("--owner <name>", "who answers for the model")
    .option("--tag <key=value>", "tag (repeatable, or comma-separated); replaces the stored tags", collect, [])
    .option("--protected-alias <alias>", "alias only admins may move (repeatable, or comma-separated)", collect, [])

const metadataOf = (o: MetadataOptions) => ({
  ...(o.description !== undefined ? { description: o.description } : {}),
  ...(o.owner !== undefined ? { owner: o.owner } : {}),
  ...(o.tag.length > 0 ? { tags: parseTags(o.tag) } : {}),
  ...(o.protectedAlias.length > 0 ? { protectedAliases: o.protectedAlias.flatMap(parseList) } : {})
})

const registeredText = (r: RegisteredModel) =>
  record({
    name: r.name,
    description: r.description,
    owner: r.owner,
    tags: r.tags,
    protectedAliases: r.protectedAliases,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt
  })

const detailText = (d: RegisteredModelDetail) =>
  [
    registeredText(d),
    "",
    table(["STATUS", "LATEST VERSION", "ID"], d.latestVersions.map((m) => [m.status, m.version, m.id])),
    "",
    table(["ALIAS", "VERSION", "ID"], d.resolvedAliases.map((a) => [a.alias, a.version, a.modelId]))
  ].join("\n")

export const registeredModelsCommand = (run: Run): Command => {
  const registered = withExamples(
    new Command("registered-models").description("registered models: names, owners, tags, aliases, archive-all"),
    "ml registered-models list --prefix fraud",
    "ml registered-models get fraud-detector"
  )

  registered.addCommand(withExamples(
    new Command("list")
      .description("list registered models (all pages), by name")
      .option("--prefix <text>", "only names starting with this")
      .option("--limit <n>", "at most n registered models", parseInteger("--limit"))
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{ prefix?: string; limit?: number }>()
          const found: Array<RegisteredModel> = []
          for await (
            const item of context.client.registry.listRegisteredModels(
              o.prefix !== undefined ? { namePrefix: o.prefix } : {}
            )
          ) {
            if (o.limit !== undefined && found.length >= o.limit) break
            found.push(item)
          }
          context.out.result({ items: found }, () =>
            table(
              ["NAME", "OWNER", "ALIASES", "UPDATED"],
              found.map((r) => [r.name, r.owner, Object.keys(r.aliases).join(","), r.updatedAt])
            ))
        })
      }),
    "ml registered-models list --prefix fraud --json"
  ))

  registered.addCommand(withExamples(
    new Command("get")
      .description("one registered model: newest version per status and its aliases")
      .argument("<name>", "model name")
      .action(function(this: Command, name: string) {
        return run(this, async (context) => {
          const detail = await context.client.registry.getRegisteredModel(name)
          context.out.result(detail, () => detailText(detail))
        })
      }),
    "ml registered-models get fraud-detector"
  ))

  registered.addCommand(withExamples(
    metadataOptions(
      new Command("create")
        .description("create a registered model (registering a version of a new name creates one too)")
        .argument("<name>", "model name")
    ).action(function(this: Command, name: string) {
      return run(this, async (context) => {
        const created = await context.client.registry.createRegisteredModel({
          name,
          ...metadataOf(this.opts<MetadataOptions>())
        })
        context.out.result(created, () => registeredText(created))
      })
    }),
    "ml registered-models create fraud-detector --owner risk-team --tag domain=payments"
  ))

  registered.addCommand(withExamples(
    metadataOptions(
      new Command("update").description("change description, owner, tags or protected aliases").argument(
        "<name>",
        "model name"
      )
    ).action(function(this: Command, name: string) {
      return run(this, async (context) => {
        const updated = await context.client.registry.updateRegisteredModel(name, metadataOf(this.opts()))
        context.out.result(updated, () => registeredText(updated))
      })
    }),
    "ml registered-models update fraud-detector --protected-alias champion"
  ))

  registered.addCommand(withExamples(
    new Command("history")
      .description("audit trail of every version, alias moves included, oldest first")
      .argument("<name>", "model name")
      .action(function(this: Command, name: string) {
        return run(this, async (context) => {
          const history = await context.client.registry.getRegisteredModelHistory(name)
          context.out.result({ items: history }, () =>
            table(
              ["AT", "ACTION", "VERSION", "ALIAS", "ACTOR", "FROM", "TO"],
              history.map((e) => [e.at, e.action, e.version, e.alias ?? null, e.actor, e.from, e.to])
            ))
        })
      }),
    "ml registered-models history fraud-detector"
  ))

  registered.addCommand(withExamples(
    new Command("archive")
      .description("archive every version of a registered model in one audited step (admin)")
      .argument("<name>", "model name")
      .option("--reason <text>", "why (recorded in the audit trail)")
      .action(function(this: Command, name: string) {
        return run(this, async (context) => {
          const reason = this.opts<{ reason?: string }>().reason
          const detail = await context.client.registry.archiveRegisteredModel(
            name,
            reason !== undefined ? { reason } : {}
          )
          context.out.result(detail, () => detailText(detail))
        })
      }),
    "ml registered-models archive fraud-detector --reason \"replaced by fraud-v2\""
  ))

  return registered
}
