/**
 * Server configuration from environment variables, validated at start-up: a bad value stops
 * the server with a message naming the variable, instead of surfacing later as odd behaviour.
 */
export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly storageDir: string
  readonly redisUrl: string | undefined
  readonly redisPrefix: string
  readonly maxUploadBytes: number
  readonly maxJsonBytes: number
  readonly demoteProductionTo: "archived" | "staging"
  readonly apiToken: string | undefined
  readonly shutdownTimeoutMs: number
  readonly abStickyAssignment: boolean
  readonly abMinSamples: number
  /** Seconds between Thompson-sampling reweights of running bandit experiments (0: on demand only). */
  readonly abReweightIntervalSeconds: number
  readonly driftThreshold: number
  readonly driftWindowSize: number
  readonly driftCheckIntervalSeconds: number
  /** How often the drift scheduler looks for due monitors, in ms. */
  readonly driftTickMillis: number
  /** Defaults for new online-learning pipelines. */
  readonly onlineStrategy: "incremental" | "mini-batch" | "periodic" | "adaptive"
  readonly onlineBatchSize: number
  readonly onlineMaxBuffer: number
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = "ConfigError"
  }
}

const integer = (env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number) => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`)
  return value
}

const boolean = (env: Record<string, string | undefined>, name: string, fallback: boolean) => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  if (/^(true|1|yes)$/i.test(raw)) return true
  if (/^(false|0|no)$/i.test(raw)) return false
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`)
}

const probability = (env: Record<string, string | undefined>, name: string, fallback: number) => {
  const raw = env[name]
  if (raw === undefined || raw === "") return fallback
  const value = Number(raw)
  if (!(value > 0 && value < 1)) {
    throw new ConfigError(name, `must be a number strictly between 0 and 1, got ${JSON.stringify(raw)}`)
  }
  return value
}

export const loadConfig = (env: Record<string, string | undefined>): ServerConfig => {
  const demote = env.ML_DEMOTE_PRODUCTION_TO ?? "archived"
  if (demote !== "archived" && demote !== "staging") {
    throw new ConfigError("ML_DEMOTE_PRODUCTION_TO", `must be "archived" or "staging", got ${JSON.stringify(demote)}`)
  }
  const strategies = ["incremental", "mini-batch", "periodic", "adaptive"] as const
  const onlineStrategy = (env.ML_ONLINE_STRATEGY || "mini-batch") as (typeof strategies)[number]
  if (!strategies.includes(onlineStrategy)) {
    throw new ConfigError(
      "ML_ONLINE_STRATEGY",
      `must be one of ${strategies.join(", ")}, got ${JSON.stringify(env.ML_ONLINE_STRATEGY)}`
    )
  }
  const onlineMaxBuffer = integer(env, "ML_ONLINE_MAX_BUFFER", 100_000, 1, 10_000_000)
  const onlineBatchSize = integer(env, "ML_ONLINE_BATCH_SIZE", 100, 1, onlineMaxBuffer)
  const redisUrl = env.ML_REDIS_URL === "" ? undefined : env.ML_REDIS_URL
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError("ML_REDIS_URL", "must start with redis:// or rediss://")
  }
  return {
    host: env.ML_HOST || "127.0.0.1",
    port: integer(env, "ML_PORT", 8080, 0, 65535),
    storageDir: env.ML_MODEL_STORAGE_DIR || "./.ml-data",
    redisUrl,
    redisPrefix: env.ML_REDIS_PREFIX ?? "",
    maxUploadBytes: integer(env, "ML_MAX_UPLOAD_BYTES", 10 * 1024 ** 3, 0, Number.MAX_SAFE_INTEGER),
    maxJsonBytes: integer(env, "ML_MAX_JSON_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
    demoteProductionTo: demote,
    apiToken: env.ML_API_TOKEN || undefined,
    shutdownTimeoutMs: integer(env, "ML_SHUTDOWN_TIMEOUT_MS", 30_000, 0, 600_000),
    abStickyAssignment: boolean(env, "ML_AB_STICKY_ASSIGNMENT", true),
    abMinSamples: integer(env, "ML_AB_MIN_SAMPLES", 1000, 2, Number.MAX_SAFE_INTEGER),
    abReweightIntervalSeconds: integer(env, "ML_AB_REWEIGHT_INTERVAL", 300, 0, 86_400),
    driftThreshold: probability(env, "ML_DRIFT_THRESHOLD", 0.05),
    driftWindowSize: integer(env, "ML_DRIFT_WINDOW_SIZE", 1000, 10, 1_000_000),
    driftCheckIntervalSeconds: integer(env, "ML_DRIFT_CHECK_INTERVAL", 300, 1, 86_400 * 7),
    driftTickMillis: integer(env, "ML_DRIFT_SCHEDULER_TICK_MS", 1000, 10, 3_600_000),
    onlineStrategy,
    onlineBatchSize,
    onlineMaxBuffer
  }
}
