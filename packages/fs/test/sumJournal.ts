/** A journal for tests that sums the numbers written to it (entries are not idempotent: replaying one twice shows). */
import { Effect, Exit, Scope } from "effect"
import { type JournalOptions, makeJournal } from "../src/Journal.js"

type SumOptions = Partial<Pick<JournalOptions<{ total: number }, number>, "compactAfterBytes" | "snapshot">>

export const openSumJournal = async (directory: string, options: SumOptions = {}) => {
  const scope = Effect.runSync(Scope.make())
  const journal = await Effect.runPromise(
    Scope.provide(scope)(makeJournal<{ total: number }, number>({
      directory,
      name: "sum",
      fresh: () => ({ total: 0 }),
      replay: (state, n) => void (state.total += n),
      snapshot: (state) => [state.total],
      ...options
    }))
  )
  return { journal, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Adds `n` to the sum; resolves once it is durable. */
export const add = (journal: Awaited<ReturnType<typeof openSumJournal>>["journal"], n: number) =>
  Effect.runPromise(journal.mutate((s) => Effect.sync(() => (s.total += n)), () => n))
