/**
 * The one retry policy of the core. Compare-and-set loops, webhook deliveries and learner retries
 * all back off the same way: delays doubling from `base`, capped at `cap`, scaled by a random
 * factor in [0.8, 1.2] drawn from Effect's `Random` (so a seeded test is deterministic), and at
 * most `retries` retries after the first attempt.
 */
import { Duration, Effect, Schedule } from "effect"
import { StaleRevisionError, StorageError } from "./Errors.js"

export interface BackoffOptions {
  readonly base: Duration.Input
  readonly retries: number
  readonly cap?: Duration.Input | undefined
  readonly jitter?: boolean | undefined
}

/** Doubling delays from `base` (capped at `cap`), jittered unless `jitter: false`, `retries` times. */
export const backoff = (options: BackoffOptions): Schedule.Schedule<unknown> => {
  const cap = options.cap === undefined ? undefined : Duration.fromInputUnsafe(options.cap)
  const doubling = Schedule.exponential(options.base, 2)
  const capped = cap === undefined
    ? doubling
    : Schedule.modifyDelay(doubling, ({ duration }) => Effect.succeed(Duration.min(duration, cap)))
  const delays = options.jitter === false ? capped : Schedule.jittered(capped)
  return Schedule.max([delays, Schedule.recurs(options.retries)])
}

const isStale = (error: unknown): error is StaleRevisionError => error instanceof StaleRevisionError

/**
 * Runs a read-decide-commit step again while another writer wins the compare-and-set race; after
 * `attempts` losses the caller gets a StorageError (a live-lock, not a user error).
 */
export const retryOnStaleRevision = <A, E, R>(
  step: Effect.Effect<A, E | StaleRevisionError, R>,
  attempts = 100
): Effect.Effect<A, Exclude<E, StaleRevisionError> | StorageError, R> =>
  step.pipe(
    Effect.retry({ while: isStale, schedule: backoff({ base: "1 millis", cap: "50 millis", retries: attempts - 1 }) }),
    Effect.catchIf(isStale, (error) =>
      Effect.fail(
        new StorageError({ message: `Gave up after ${attempts} conflicting writes: ${error.message}` })
      ))
  ) as Effect.Effect<A, Exclude<E, StaleRevisionError> | StorageError, R>
