/**
 * The one retry policy of the core. Compare-and-set loops, webhook deliveries and learner retries
 * all back off the same way: delays doubling from `base`, capped at `cap`, jittered with Effect's
 * `Random` (so a seeded test is deterministic), and at most `retries` retries after the first
 * attempt. Writers racing for one compare-and-set use full jitter (a delay anywhere in [0, d)),
 * which spreads them apart far better than a small factor around d.
 */
import { Duration, Effect, Random, Schedule } from "effect"
import { StaleRevisionError, StorageError } from "./Errors.js"

export interface BackoffOptions {
  readonly base: Duration.Input
  readonly retries: number
  readonly cap?: Duration.Input | undefined
  /** "full": uniform in [0, d); true (default): d times a factor in [0.8, 1.2]; false: exactly d. */
  readonly jitter?: boolean | "full" | undefined
}

const fullJitter = <Output>(schedule: Schedule.Schedule<Output>) =>
  Schedule.modifyDelay(
    schedule,
    ({ duration }) => Effect.map(Random.next, (r) => Duration.millis(Duration.toMillis(duration) * r))
  )

/** Doubling delays from `base` (capped at `cap`), jittered unless `jitter: false`, `retries` times. */
export const backoff = (options: BackoffOptions): Schedule.Schedule<unknown> => {
  const cap = options.cap === undefined ? undefined : Duration.fromInputUnsafe(options.cap)
  const doubling = Schedule.exponential(options.base, 2)
  const capped = cap === undefined
    ? doubling
    : Schedule.modifyDelay(doubling, ({ duration }) => Effect.succeed(Duration.min(duration, cap)))
  const delays = options.jitter === false
    ? capped
    : options.jitter === "full"
    ? fullJitter(capped)
    : Schedule.jittered(capped)
  return Schedule.max([delays, Schedule.recurs(options.retries)])
}

const staleRevisionBackoff = (attempts: number) =>
  backoff({ base: "2 millis", cap: "50 millis", retries: attempts - 1, jitter: "full" })

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
    Effect.retry({ while: isStale, schedule: staleRevisionBackoff(attempts) }),
    Effect.catchIf(isStale, (error) =>
      Effect.fail(
        new StorageError({ message: `Gave up after ${attempts} conflicting writes: ${error.message}` })
      ))
  ) as Effect.Effect<A, Exclude<E, StaleRevisionError> | StorageError, R>
