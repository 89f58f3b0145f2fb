/** The `ml` command as a library: run it in process (tests, wrappers) and its exit codes. */
export { makeProgram, run, version } from "./Cli.js"
export { CliError, ExitCode, exitCodeTable } from "./ExitCodes.js"
