/**
 * `ml models`: the registry. `register --artifact` and `upload` stream the file twice, never
 * holding it in memory: once to compute its SHA-256, then to the server with that digest in
 * `x-artifact-sha256`, so the server stores nothing if the bytes it receives differ.
 * `download` streams into a temporary file, verified by the SDK while it streams, then renames.
 */
import type { MlClient, Model } from "@org/ml-sdk"
import { Command, Option } from "commander"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import {
  collect,
  type Context,
  parseInstant,
  parseInteger,
  parseList,
  parseNumericPairs,
  type Run,
  withExamples
} from "../Context.js"
import { CliError, usageError } from "../ExitCodes.js"
import { fileChunks, readText, sha256OfFile, statFile, writeAtomically } from "../Files.js"
import { exportedMlmodel, MLMODEL, parseMlmodel, referencedFiles, registrationOf } from "../Mlflow.js"
import { record, table } from "../Output.js"
import { makeProgress } from "../Progress.js"
import { extractTar, readTarEntries, readTarFile, writeTar } from "../Tar.js"

const statuses = ["draft", "testing", "staging", "production", "archived"] as const

const modelRows = (models: ReadonlyArray<Model>) =>
  table(
    ["ID", "NAME", "VERSION", "STATUS", "SIZE", "CREATED"],
    models.map((m) => [m.id, m.name, m.version, m.status, m.artifact?.sizeBytes ?? null, m.createdAt])
  )

const modelText = (m: Model) =>
  record({
    id: m.id,
    name: m.name,
    version: m.version,
    status: m.status,
    algorithm: m.algorithm,
    framework: m.framework,
    artifact: m.artifact ? `${m.artifact.sizeBytes} bytes, sha256 ${m.artifact.sha256}` : null,
    metrics: m.metrics,
    tags: m.tags,
    ...(m.keyValueTags !== undefined && Object.keys(m.keyValueTags).length > 0 ? { keyValueTags: m.keyValueTags } : {}),
    signature: m.signature === undefined
      ? null
      : `inputs ${m.signature.inputs.map((c) => `${c.name}:${c.type}`).join(", ")}` +
        (m.signature.outputs ? `; outputs ${m.signature.outputs.map((c) => `${c.name}:${c.type}`).join(", ")}` : ""),
    createdAt: m.createdAt,
    updatedAt: m.updatedAt
  })

/** Hashes then streams `file` as `id`'s artifact, with a progress bar on a terminal. */
const uploadFile = async (context: Context, client: MlClient, id: string, file: string, allowEmpty: boolean) => {
  const size = await statFile(file)
  const hashing = makeProgress(context.streams.stderr, "hashing  ", size)
  const sha256 = await sha256OfFile(file, (chunk) => hashing.advance(chunk.byteLength))
  hashing.done()
  const uploading = makeProgress(context.streams.stderr, "uploading", size)
  const model = await client.registry.uploadArtifact(
    id,
    fileChunks(file, (chunk) => uploading.advance(chunk.byteLength)),
    { expectedSha256: sha256, allowEmpty }
  )
  uploading.done()
  return model
}

export const modelsCommand = (run: Run): Command => {
  const models = withExamples(
    new Command("models").description("the model registry: versions, artifacts, promotions, history"),
    "ml models register --name churn --version 1.1.0 --algorithm xgboost --framework xgboost --artifact model.bin",
    "ml models list --name churn --status production"
  )

  models.addCommand(withExamples(
    new Command("register")
      .description("register a model version (draft) and, with --artifact, stream its artifact")
      .requiredOption("--name <name>", "model name")
      .requiredOption("--version <version>", "version (unique per name)")
      .requiredOption("--algorithm <algorithm>", "algorithm, e.g. xgboost")
      .requiredOption("--framework <framework>", "framework, e.g. sklearn")
      .option("--description <text>", "description")
      .option("--tag <tag>", "tag (repeatable, or comma-separated)", collect, [])
      .option("--metric <name=value>", "offline metric (repeatable), e.g. auc=0.93", collect, [])
      .option("--parent <modelId>", "the model this version derives from")
      .option("--artifact <file>", "artifact file: streamed, its SHA-256 computed and sent")
      .option("--allow-empty", "accept an empty (0-byte) artifact")
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<{
            name: string
            version: string
            algorithm: string
            framework: string
            description?: string
            tag: Array<string>
            metric: Array<string>
            parent?: string
            artifact?: string
            allowEmpty?: boolean
          }>()
          // Check the file before registering, so a typo does not leave a draft behind.
          if (o.artifact !== undefined && (await statFile(o.artifact)) === 0 && o.allowEmpty !== true) {
            throw usageError(`${o.artifact} is empty (0 bytes); pass --allow-empty to store an empty artifact`)
          }
          const client = context.client
          let model = await client.registry.registerModel({
            name: o.name,
            version: o.version,
            algorithm: o.algorithm,
            framework: o.framework,
            ...(o.description !== undefined ? { description: o.description } : {}),
            ...(o.tag.length > 0 ? { tags: o.tag.flatMap(parseList) } : {}),
            ...(o.metric.length > 0 ? { metrics: parseNumericPairs("--metric", o.metric) } : {}),
            ...(o.parent !== undefined ? { parentModelId: o.parent } : {})
          })
          if (o.artifact !== undefined) {
            try {
              model = await uploadFile(context, client, model.id, o.artifact, o.allowEmpty === true)
            } catch (error) {
              context.out.note(
                `note: ${model.id} stays registered as a draft without an artifact; retry with ` +
                  `ml models upload ${model.id} --artifact ${o.artifact}`
              )
              throw error
            }
          }
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models register --name churn --version 1.1.0 --algorithm xgboost --framework xgboost \\\n" +
      "      --metric auc=0.93 --tag nightly --artifact model.bin"
  ))

  models.addCommand(withExamples(
    new Command("upload")
      .description("stream the artifact of a registered draft (SHA-256 computed and sent)")
      .argument("<modelId>", "model id")
      .requiredOption("--artifact <file>", "artifact file")
      .option("--allow-empty", "accept an empty (0-byte) artifact")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const o = this.opts<{ artifact: string; allowEmpty?: boolean }>()
          const model = await uploadFile(context, context.client, id, o.artifact, o.allowEmpty === true)
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models upload 01J9Z8K2W4X6Y8A0B2C4D6E8FG --artifact model.bin"
  ))

  models.addCommand(withExamples(
    new Command("list")
      .description("list models (all pages), oldest first")
      .option("--name <name>", "only this name")
      .addOption(new Option("--status <status>", "only this status").choices(statuses))
      .option("--framework <framework>", "only this framework")
      .option("--tag <tag>", "only models with this tag")
      .option("--limit <n>", "at most n models", parseInteger("--limit"))
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<
            { name?: string; status?: Model["status"]; framework?: string; tag?: string; limit?: number }
          >()
          const found: Array<Model> = []
          for await (
            const model of context.client.registry.listModels({
              ...(o.name !== undefined ? { name: o.name } : {}),
              ...(o.status !== undefined ? { status: o.status } : {}),
              ...(o.framework !== undefined ? { framework: o.framework } : {}),
              ...(o.tag !== undefined ? { tag: o.tag } : {})
            })
          ) {
            if (o.limit !== undefined && found.length >= o.limit) break
            found.push(model)
          }
          context.out.result({ items: found }, () => modelRows(found))
        })
      }),
    "ml models list --name churn --status production --json"
  ))

  models.addCommand(withExamples(
    new Command("search")
      .description("search models with a filter (README \"Search\"), all pages")
      .argument("[filter]", "e.g. \"name = 'churn' AND tags.team = 'risk' AND metrics.auc > 0.9\"")
      .option("--order-by <order>", "a field and ASC or DESC, e.g. \"metrics.auc DESC\"")
      .option("--limit <n>", "at most n models", parseInteger("--limit"))
      .action(function(this: Command, filter?: string) {
        return run(this, async (context) => {
          const o = this.opts<{ orderBy?: string; limit?: number }>()
          const found: Array<Model> = []
          for await (
            const model of context.client.registry.searchModels({
              ...(filter !== undefined ? { filter } : {}),
              ...(o.orderBy !== undefined ? { orderBy: o.orderBy } : {}),
              ...(o.limit !== undefined ? { limit: Math.min(o.limit, 500) } : {})
            })
          ) {
            if (o.limit !== undefined && found.length >= o.limit) break
            found.push(model)
          }
          context.out.result({ items: found }, () => modelRows(found))
        })
      }),
    "ml models search \"tags.team = 'risk' AND metrics.auc > 0.9\" --order-by \"metrics.auc DESC\""
  ))

  models.addCommand(withExamples(
    new Command("tag")
      .description("set one key-value tag of a model (audited)")
      .argument("<modelId>", "model id")
      .argument("<key>", "tag key")
      .argument("<value>", "tag value")
      .action(function(this: Command, id: string, key: string, value: string) {
        return run(this, async (context) => {
          const model = await context.client.registry.setModelTag(id, key, value)
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models tag 01J9Z8K2W4X6Y8A0B2C4D6E8FG team risk"
  ))

  models.addCommand(withExamples(
    new Command("untag")
      .description("remove one key-value tag of a model (audited)")
      .argument("<modelId>", "model id")
      .argument("<key>", "tag key")
      .action(function(this: Command, id: string, key: string) {
        return run(this, async (context) => {
          const model = await context.client.registry.deleteModelTag(id, key)
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models untag 01J9Z8K2W4X6Y8A0B2C4D6E8FG team"
  ))

  models.addCommand(withExamples(
    new Command("get").description("show one model").argument("<modelId>", "model id").action(
      function(this: Command, id: string) {
        return run(this, async (context) => {
          const model = await context.client.registry.getModel(id)
          context.out.result(model, () => modelText(model))
        })
      }
    ),
    "ml models get 01J9Z8K2W4X6Y8A0B2C4D6E8FG"
  ))

  models.addCommand(withExamples(
    new Command("history").description("the model's audit trail, oldest first").argument("<modelId>", "model id")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const history = await context.client.registry.getHistory(id)
          context.out.result({ items: history }, () =>
            table(
              ["AT", "ACTION", "ACTOR", "FROM", "TO", "REASON"],
              history.map((e) => [e.at, e.action, e.actor, e.from, e.to, e.reason])
            ))
        })
      }),
    "ml models history 01J9Z8K2W4X6Y8A0B2C4D6E8FG"
  ))

  const promote = (status: string | undefined, name: string, description: string, example: string) => {
    const command = new Command(name).description(description).argument("<modelId>", "model id")
    if (status === undefined) command.argument("<status>", `target status: ${statuses.join(", ")}`)
    return withExamples(
      command.option("--reason <text>", "why (recorded in the audit trail)").action(
        function(this: Command, id: string, target?: string) {
          return run(this, async (context) => {
            const to = status ?? target!
            if (!(statuses as ReadonlyArray<string>).includes(to)) {
              throw new CliError(`status must be one of ${statuses.join(", ")}, got "${to}"`, 2)
            }
            const reason = this.opts<{ reason?: string }>().reason
            const model = await context.client.registry.promoteModel(
              id,
              to as Model["status"],
              reason !== undefined ? { reason } : {}
            )
            context.out.result(model, () => `${model.id} (${model.name} ${model.version}) is now ${model.status}`)
          })
        }
      ),
      example
    )
  }
  models.addCommand(
    promote(
      undefined,
      "promote",
      "move a model to another status (draft, testing, staging, production, archived)",
      "ml models promote 01J9Z8K2W4X6Y8A0B2C4D6E8FG testing --reason \"offline eval passed\""
    )
  )
  models.addCommand(
    promote(
      "archived",
      "archive",
      "archive a model (promote to archived)",
      "ml models archive 01J9Z8K2W4X6Y8A0B2C4D6E8FG --reason superseded"
    )
  )

  models.addCommand(withExamples(
    new Command("download")
      .description("download the artifact, verified against its SHA-256, written atomically")
      .argument("<modelId>", "model id")
      .requiredOption("--out <file>", "where to write it (replaced only once the bytes are verified)")
      .action(function(this: Command, id: string) {
        return run(this, async (context) => {
          const out = this.opts<{ out: string }>().out
          const artifact = await context.client.registry.downloadArtifact(id)
          const progress = makeProgress(context.streams.stderr, "downloading", artifact.sizeBytes)
          await writeAtomically(out, artifact.stream, (chunk) => progress.advance(chunk.byteLength))
          progress.done()
          const result = { modelId: id, file: out, sizeBytes: artifact.sizeBytes, sha256: artifact.sha256 }
          context.out.result(result, () => `${out}: ${artifact.sizeBytes} bytes, sha256 ${artifact.sha256} (verified)`)
        })
      }),
    "ml models download 01J9Z8K2W4X6Y8A0B2C4D6E8FG --out model.bin"
  ))

  const alias = withExamples(
    new Command("alias").description("aliases of a registered model: set, get (now or at a time), delete"),
    "ml models alias set churn champion --version 1.1.0",
    "ml models alias get churn champion --at 2026-06-01T00:00:00Z"
  )
  alias.addCommand(withExamples(
    new Command("set")
      .description("point an alias at a version (by --version or --model-id)")
      .argument("<name>", "model name")
      .argument("<alias>", "alias, e.g. champion")
      .option("--version <version>", "the version the alias points at")
      .option("--model-id <modelId>", "the version the alias points at, by id")
      .action(function(this: Command, name: string, aliasName: string) {
        return run(this, async (context) => {
          const o = this.opts<{ version?: string; modelId?: string }>()
          if ((o.version === undefined) === (o.modelId === undefined)) {
            throw usageError("give exactly one of --version and --model-id")
          }
          const model = await context.client.registry.setAlias(
            name,
            aliasName,
            o.version !== undefined ? { version: o.version } : { modelId: o.modelId! }
          )
          context.out.result(model, () => `${name}@${aliasName} -> ${model.version} (${model.id})`)
        })
      }),
    "ml models alias set churn champion --version 1.1.0"
  ))
  alias.addCommand(withExamples(
    new Command("get")
      .description("the version an alias points at, now or at a time (production: the production version)")
      .argument("<name>", "model name")
      .argument("<alias>", "alias")
      .option("--at <time>", "ISO 8601 time", parseInstant("--at"))
      .action(function(this: Command, name: string, aliasName: string) {
        return run(this, async (context) => {
          const model = await context.client.registry.getAlias(name, aliasName, this.opts<{ at?: string }>().at)
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models alias get churn champion"
  ))
  alias.addCommand(withExamples(
    new Command("delete")
      .description("remove an alias")
      .argument("<name>", "model name")
      .argument("<alias>", "alias")
      .action(function(this: Command, name: string, aliasName: string) {
        return run(this, async (context) => {
          await context.client.registry.deleteAlias(name, aliasName)
          context.out.result({ name, alias: aliasName, deleted: true }, () => `${name}@${aliasName} deleted`)
        })
      }),
    "ml models alias delete churn challenger"
  ))
  models.addCommand(alias)

  models.addCommand(withExamples(
    new Command("import-mlflow")
      .description(
        "register an MLflow model directory (MLmodel + files) as a version: signature and metadata from MLmodel, " +
          "the directory as a deterministic tar artifact"
      )
      .argument("<dir>", "the MLflow model directory (holding MLmodel)")
      .requiredOption("--name <name>", "model name")
      .requiredOption("--version <version>", "version (unique per name)")
      .option("--algorithm <algorithm>", "algorithm (default: MLmodel metadata.algorithm, else unknown)")
      .action(function(this: Command, dir: string) {
        return run(this, async (context) => {
          const o = this.opts<{ name: string; version: string; algorithm?: string }>()
          const where = path.join(dir, MLMODEL)
          await statFile(where).catch(() => {
            throw usageError(`${dir} is not an MLflow model directory: it holds no readable ${MLMODEL} file`)
          })
          const document = parseMlmodel(await readText(where), where)
          for (const file of referencedFiles(document)) {
            if (file.split("/").includes("..") || path.isAbsolute(file)) {
              throw usageError(`${where}: flavor file ${file} is outside the model directory`)
            }
            await statFile(path.join(dir, file)).catch(() => {
              throw usageError(`${where} names ${file}, which ${dir} does not hold (or cannot be read)`)
            })
          }
          const input = registrationOf(document, o, where)
          // Archived before registering, so an unreadable directory leaves no draft behind.
          const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "ml-mlflow-"))
          try {
            const archive = path.join(scratch, "model.tar")
            await writeTar(dir, archive)
            const registered = await context.client.registry.registerModel(input)
            let model: Model
            try {
              model = await uploadFile(context, context.client, registered.id, archive, false)
            } catch (error) {
              context.out.note(`note: ${registered.id} stays registered as a draft without an artifact`)
              throw error
            }
            context.out.result(model, () => modelText(model))
          } finally {
            await fs.rm(scratch, { recursive: true, force: true })
          }
        })
      }),
    "ml models import-mlflow ./mlruns/0/abc/artifacts/model --name churn --version 2.0.0"
  ))

  models.addCommand(withExamples(
    new Command("export-mlflow")
      .description(
        "write a version imported from MLflow back as an MLflow model directory (MLmodel regenerated with the " +
          "version's signature); archive entries that could leave the directory are refused"
      )
      .argument("<modelId>", "model id")
      .argument("<dir>", "the directory to create (must not exist)")
      .action(function(this: Command, id: string, dir: string) {
        return run(this, async (context) => {
          const model = await context.client.registry.getModel(id)
          const artifact = await context.client.registry.downloadArtifact(id)
          const scratch = await fs.mkdtemp(path.join(os.tmpdir(), "ml-mlflow-"))
          try {
            const archive = path.join(scratch, "model.tar")
            await writeAtomically(archive, artifact.stream)
            // Every entry is checked before anything is extracted.
            const entries = await readTarEntries(archive)
            const mlmodel = entries.find((e) => e.name === MLMODEL && e.type === "file")
            if (mlmodel === undefined) {
              throw new CliError(`the artifact of ${id} is not an MLflow model (no ${MLMODEL} at its root)`)
            }
            const document = parseMlmodel((await readTarFile(archive, mlmodel)).toString("utf8"), MLMODEL)
            await extractTar(archive, dir)
            await fs.rm(path.join(dir, MLMODEL))
            await fs.writeFile(path.join(dir, MLMODEL), exportedMlmodel(document, model), { flag: "wx" })
            const files = entries.filter((e) => e.type === "file").map((e) => e.name)
            const result = { modelId: id, directory: dir, files, sha256: artifact.sha256 }
            context.out.result(result, () => `${dir}: ${files.length} files of ${model.name} ${model.version} (${id})`)
          } finally {
            await fs.rm(scratch, { recursive: true, force: true })
          }
        })
      }),
    "ml models export-mlflow 01J9Z8K2W4X6Y8A0B2C4D6E8FG ./exported-model"
  ))

  models.addCommand(withExamples(
    new Command("production")
      .description("the production version of a model name, now or at a time")
      .argument("<name>", "model name")
      .option("--at <time>", "ISO 8601 time", parseInstant("--at"))
      .action(function(this: Command, name: string) {
        return run(this, async (context) => {
          const at = this.opts<{ at?: string }>().at
          const model = await context.client.registry.getProduction(name, at)
          context.out.result(model, () => modelText(model))
        })
      }),
    "ml models production churn --at 2026-06-01T00:00:00Z"
  ))

  return models
}
