/**
 * What the hand-written routes of the domains not yet described by an endpoint table share
 * (experiments, drift, pipelines): run a use case and answer with its result or its problem.
 * This file goes away once those routes are mounted from their tables like the registry's.
 */
import { type Effect, Exit, type ManagedRuntime, Schema } from "effect"
import type { Context } from "hono"
import type { AppServices } from "./AppServices.js"
import { failureResponse } from "./Mount.js"

export interface LegacyRoutes {
  /** Runs a use case and answers with its result, or with the problem for its typed error. */
  readonly respond: <A>(
    c: Context,
    program: Effect.Effect<A, unknown, AppServices>,
    ok: (value: A) => Response
  ) => Promise<Response>
  readonly maxJsonBytes: number
}

export const makeLegacyRoutes = (
  runtime: ManagedRuntime.ManagedRuntime<AppServices, unknown>,
  maxJsonBytes: number,
  log: (line: string) => void
): LegacyRoutes => ({
  respond: async (c, program, ok) => {
    const exit = await runtime.runPromiseExit(program)
    return Exit.isSuccess(exit) ? ok(exit.value) : failureResponse(c, exit.cause, log)
  },
  maxJsonBytes
})

/** Who is acting: the x-actor header, else "anonymous". */
export const actorOf = (c: Context): string => c.req.header("x-actor") ?? "anonymous"

/** The id rule of monitors and pipelines (user-chosen slugs). */
export const slugId = (what: string) =>
  Schema.String.check(Schema.isPattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/u, { message: `must be a ${what} id` }))
