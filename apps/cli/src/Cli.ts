/**
 * The `ml` program: global options, the command groups, help with examples and the exit-code
 * table, completion, and `run`, which parses argv, runs the command and returns the exit code.
 * Nothing here throws past `run`: every failure becomes a message on stderr (with --json, the
 * problem as JSON on stdout too) and a code from ExitCodes.ts.
 */
import { Command, CommanderError, Option } from "commander"
import { driftCommand } from "./commands/drift.js"
import { experimentsCommand } from "./commands/experiments.js"
import { keysCommand } from "./commands/keys.js"
import { learnerCommand } from "./commands/learner.js"
import { modelsCommand } from "./commands/models.js"
import { pipelinesCommand } from "./commands/pipelines.js"
import { registeredModelsCommand } from "./commands/registeredModels.js"
import { servedCommand } from "./commands/served.js"
import { bashCompletion } from "./Completion.js"
import { type Context, defaultServer, makeContext, withExamples } from "./Context.js"
import { ExitCode, exitCodeTable, report } from "./ExitCodes.js"
import type { Streams } from "./Output.js"

export const version = "0.1.0"

const rootHelp = `
Environment:
  ML_SERVER_URL   server base URL (--server), default ${defaultServer}
  ML_API_TOKEN    bearer token or API key (--token)

Output:
  Results go to stdout (with --json, one JSON document); progress, notes and errors to stderr.

Exit codes:
${exitCodeTable.map(([code, meaning]) => `  ${code}  ${meaning}`).join("\n")}

Completion:
  ml completion bash > ~/.local/share/bash-completion/completions/ml   (or: source <(ml completion bash))`

export const makeProgram = (streams: Streams, outcome: { exitCode: number }): Command => {
  const program = new Command("ml")
    .description("ML Pipeline from the command line: registry, A/B tests, drift, online learning, API keys")
    .version(version, "-V, --version")
    .addOption(new Option("--server <url>", "server base URL").env("ML_SERVER_URL").default(defaultServer))
    .addOption(new Option("--token <token>", "bearer token or API key").env("ML_API_TOKEN"))
    .option("--json", "machine-readable output on stdout")
    .configureOutput({
      writeOut: (text) => void streams.stdout.write(text),
      writeErr: (text) => void streams.stderr.write(text),
      outputError: (text, write) => write(text.startsWith("error:") ? text : `error: ${text}`)
    })
    .exitOverride()
    // Program options are read only before the command name, so `ml --version` and
    // `ml models register --version 1.0.0` do not collide; leaf commands accept the globals too.
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
  program.addHelpText("after", rootHelp)
  withExamples(
    program,
    "ml --server http://ml.internal:8080 models list --status production",
    "ML_API_TOKEN=... ml experiments results EXP_ID --watch",
    "ml --json models get MODEL_ID | jq .artifact.sha256"
  )

  const run = async (command: Command, body: (context: Context) => Promise<void>) => {
    const context = makeContext(command, streams)
    try {
      await body(context)
    } catch (error) {
      const reported = report(error, context.server)
      for (const line of reported.lines) streams.stderr.write(`${line}\n`)
      if (context.out.json) streams.stdout.write(`${JSON.stringify({ error: reported.problem }, null, 2)}\n`)
      outcome.exitCode = reported.exitCode
    }
  }

  // Subcommands created after exitOverride/configureOutput inherit them (commander copies settings).
  for (
    const make of [
      modelsCommand,
      registeredModelsCommand,
      experimentsCommand,
      servedCommand,
      driftCommand,
      learnerCommand,
      pipelinesCommand,
      keysCommand
    ]
  ) {
    program.addCommand(inherit(make(run), program))
  }
  program.addCommand(inherit(
    withExamples(
      new Command("completion")
        .description("print a shell completion script")
        .argument("<shell>", "bash")
        .action((shell: string) => {
          if (shell !== "bash") {
            throw new CommanderError(
              ExitCode.usage,
              "ml.completion",
              `error: no completion for "${shell}" (bash is supported)\n`
            )
          }
          streams.stdout.write(bashCompletion(program))
        }),
      "source <(ml completion bash)"
    ),
    program
  ))
  return program
}

/** Gives a command built on its own (and its subcommands) the program's output and exit handling. */
const inherit = (command: Command, program: Command): Command => {
  command.copyInheritedSettings(program)
  if (command.commands.length === 0) {
    // No default or env here: a value given before the command name (or the env) stays in effect.
    command
      .addOption(new Option("--server <url>", `server base URL (env: ML_SERVER_URL, default ${defaultServer})`))
      .addOption(new Option("--token <token>", "bearer token or API key (env: ML_API_TOKEN)"))
      .option("--json", "machine-readable output on stdout")
  }
  for (const child of command.commands) inherit(child, program)
  return command
}

/** Runs `ml` with `argv` (without node and script); resolves to the exit code. */
export const run = async (argv: ReadonlyArray<string>, streams: Streams): Promise<number> => {
  const outcome = { exitCode: 0 }
  const program = makeProgram(streams, outcome)
  try {
    await program.parseAsync([...argv], { from: "user" })
    return outcome.exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a group without a subcommand shows its help (a usage error), as do bad options.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return ExitCode.ok
      if (error.code === "ml.completion") streams.stderr.write(error.message)
      return ExitCode.usage
    }
    // A value rejected by an option's parser (CliError) or anything unexpected.
    const reported = report(error, defaultServer)
    for (const line of reported.lines) streams.stderr.write(`${line}\n`)
    return reported.exitCode
  }
}
