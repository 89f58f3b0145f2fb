/** `ml keys`: API keys (admin): create (the token is shown once), list, revoke. */
import { Command, Option } from "commander"
import { parseInstant, parseList, type Run, withExamples } from "../Context.js"
import { table } from "../Output.js"

export const keysCommand = (run: Run): Command => {
  const keys = withExamples(
    new Command("keys").description("API keys (admin): rotate by creating a new key, deploying it, revoking the old"),
    "ml keys create --name checkout-service --role ingest --models 'fraud-*'"
  )
  keys.addCommand(withExamples(
    new Command("create")
      .description("create a key; its token is printed once, store it now")
      .requiredOption("--name <name>", "who or what uses the key")
      .addOption(
        new Option("--role <role>", "role").choices(["viewer", "ingest", "editor", "admin"]).makeOptionMandatory()
      )
      .option("--models <patterns>", "confine to model names matching these globs, comma-separated")
      .option("--expires <time>", "expiry, ISO 8601", parseInstant("--expires"))
      .action(function(this: Command) {
        return run(this, async (context) => {
          const o = this.opts<
            { name: string; role: "viewer" | "ingest" | "editor" | "admin"; models?: string; expires?: string }
          >()
          const created = await context.client.createKey({
            name: o.name,
            role: o.role,
            ...(o.models !== undefined ? { modelNames: parseList(o.models) } : {}),
            ...(o.expires !== undefined ? { expiresAt: o.expires } : {})
          })
          context.out.result(created, () => `key ${created.key.id} (${created.key.role})\ntoken: ${created.token}`)
        })
      }),
    "ml keys create --name ci --role editor --expires 2027-01-01T00:00:00Z"
  ))
  keys.addCommand(withExamples(
    new Command("list").description("list keys (never their tokens)").action(function(this: Command) {
      return run(this, async (context) => {
        const items = await context.client.listKeys()
        context.out.result({ items }, () =>
          table(
            ["ID", "NAME", "ROLE", "MODELS", "EXPIRES", "REVOKED"],
            items.map((k) => [k.id, k.name, k.role, k.modelNames?.join(",") ?? "*", k.expiresAt, k.revokedAt])
          ))
      })
    }),
    "ml keys list --json"
  ))
  keys.addCommand(withExamples(
    new Command("revoke").description("revoke a key (at once, on every server)").argument("<keyId>", "key id").action(
      function(this: Command, id: string) {
        return run(this, async (context) => {
          await context.client.revokeKey(id)
          context.out.result({ revoked: id }, () => `revoked ${id}`)
        })
      }
    ),
    "ml keys revoke KEY_ID"
  ))
  return keys
}
