#!/usr/bin/env node
/** The `ml` executable: runs the program and exits with its code once output is flushed. */
import { run } from "./Cli.js"

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
