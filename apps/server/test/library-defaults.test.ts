/**
 * The library entry (@org/ml-pipeline) documents its defaults as the server's: each of its settings
 * defaults to what the server reads from an empty environment.
 */
import { MlPipeline } from "@org/ml-pipeline"
import { expect, it } from "vitest"
import { loadConfig } from "../src/Config.js"

it("gives every library setting the server's default", () => {
  const server = loadConfig({})
  const defaults = MlPipeline.defaultSettings
  expect(Object.fromEntries(Object.keys(defaults).map((key) => [key, server[key as keyof typeof server]])))
    .toEqual(defaults)
})
