/**
 * Server configuration, read from environment variables through Effect's `Config` and a
 * ConfigProvider, and validated at start-up: a bad value stops the server with a message naming
 * the variable, instead of surfacing later as odd behaviour. Each variable's rule is a Schema;
 * an unset or empty variable takes its default (README lists both). The API token is `Redacted`,
 * so printing the configuration never shows it.
 */
import { ArtifactCipher } from "@org/ml-adapter-fs"
import {
  Config,
  ConfigProvider,
  Effect,
  Exit,
  Option,
  Redacted,
  Schema,
  type SchemaAST,
  SchemaIssue,
  SchemaTransformation
} from "effect"

export interface ServerConfig {
  readonly host: string
  readonly port: number
  readonly storageDir: string
  /** /readyz answers 503 when the data directory has less free space than this (0: only failed writes count). */
  readonly minFreeBytes: number
  readonly redisUrl: string | undefined
  /** PostgreSQL for every record (ML_DATABASE_URL); artifacts stay in the data directory. */
  readonly databaseUrl: string | undefined
  readonly redisPrefix: string
  /** How long one Redis command may take before the request answers 503, in ms. */
  readonly redisCommandTimeoutMs: number
  readonly redisConnectTimeoutMs: number
  /** How often a running server reads the Redis instance marker again, in ms. */
  readonly redisMarkerCheckMs: number
  /** Accept an emptied Redis (a new instance marker) instead of refusing it until `ml-server init-redis`. */
  readonly redisAcceptEmpty: boolean
  /** Seconds the sticky assignments of a completed experiment are kept (Redis: a TTL set at completion). */
  readonly abAssignmentRetentionSeconds: number
  readonly maxUploadBytes: number
  readonly maxJsonBytes: number
  readonly demoteProductionTo: "archived" | "staging"
  readonly apiToken: Redacted.Redacted<string> | undefined
  /** Keys for artifacts at rest: new ones are encrypted with `current`, old ones read with any (Redacted). */
  readonly artifactEncryption: Redacted.Redacted<ArtifactCipher.ArtifactKeyring> | undefined
  readonly shutdownTimeoutMs: number
  readonly abStickyAssignment: boolean
  /** Let webhooks point at loopback and private addresses (tests and single-host setups). */
  readonly webhookAllowPrivate: boolean
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
  /** Browser origins allowed to call the API (CORS); empty: CORS is off. */
  readonly corsOrigins: ReadonlyArray<string>
  /** Per-key token bucket on /v1 routes: refill rate per second (0: no rate limit) and capacity. */
  readonly rateLimitPerSecond: number
  readonly rateLimitBurst: number
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`)
    this.name = "ConfigError"
  }
}

/** A rule on the raw text; the message names what was wrong and quotes what was given. */
const rule = (check: (raw: string) => boolean, expected: string) =>
  Schema.makeFilter((raw: string) => check(raw) || `${expected}, got ${JSON.stringify(raw)}`)

/** The text, checked by `check`, read as a number (JavaScript's Number(), as the server always did). */
const numberWhere = (check: SchemaAST.Filter<string>) =>
  Schema.String.check(check).pipe(
    Schema.decodeTo(Schema.Number, SchemaTransformation.transform({ decode: Number, encode: String }))
  )

const wholeNumber = (min: number, max: number) =>
  numberWhere(rule((raw) => /^\d+$/.test(raw), "must be a whole number")).check(
    Schema.makeFilter((n: number) => (n >= min && n <= max) || `must be between ${min} and ${max}, got ${n}`)
  )

const nonNegativeRate = numberWhere(
  rule((raw) => /^\d+(\.\d+)?$/.test(raw) && Number(raw) <= 1_000_000, "must be a number from 0 to 1000000")
)

const probability = numberWhere(
  rule((raw) => Number(raw) > 0 && Number(raw) < 1, "must be a number strictly between 0 and 1")
)

const boolean = Schema.String.check(rule((raw) => /^(true|1|yes|false|0|no)$/i.test(raw), "must be true or false"))
  .pipe(
    Schema.decodeTo(
      Schema.Boolean,
      SchemaTransformation.transform({ decode: (raw) => /^(true|1|yes)$/i.test(raw), encode: String })
    )
  )

const oneOf = <const L extends ReadonlyArray<string>>(literals: L, expected: string) =>
  Schema.String.check(rule((raw) => literals.includes(raw), expected)).pipe(
    Schema.decodeTo(
      Schema.Literals(literals),
      SchemaTransformation.transform({ decode: (raw) => raw as L[number], encode: (v) => v })
    )
  )

const demotionTarget = oneOf(["archived", "staging"], `must be "archived" or "staging"`)

const strategies = ["incremental", "mini-batch", "periodic", "adaptive"] as const

const redisUrl = Schema.String.check(
  Schema.makeFilter((raw: string) => /^rediss?:\/\//.test(raw) || "must start with redis:// or rediss://")
)

const databaseUrl = Schema.String.check(
  Schema.makeFilter((raw: string) => /^postgres(ql)?:\/\//.test(raw) || "must start with postgres:// or postgresql://")
)

/** The bootstrap admin token: long enough that guessing it is hopeless. */
const MIN_API_TOKEN_LENGTH = 16
const bootstrapToken = Schema.String.check(
  Schema.makeFilter((raw: string) =>
    raw.length >= MIN_API_TOKEN_LENGTH ||
    `must be at least ${MIN_API_TOKEN_LENGTH} characters (unset it to run without authentication), got ${raw.length}`
  )
)

/** An origin as browsers send it: scheme, host and optional port, nothing else (no path, no wildcard). */
const exactOrigin = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/
const splitOrigins = (raw: string) => raw.split(",").map((origin) => origin.trim()).filter((o) => o !== "")
const corsOrigins = Schema.String.check(
  Schema.makeFilter((raw: string) => {
    const wrong = splitOrigins(raw).find((origin) => !exactOrigin.test(origin))
    return wrong === undefined ||
      `must be comma-separated exact origins like https://app.example.com, got ${JSON.stringify(wrong)}`
  })
).pipe(
  Schema.decodeTo(
    Schema.Array(Schema.String),
    SchemaTransformation.transform<ReadonlyArray<string>, string>({
      decode: splitOrigins,
      encode: (origins) => origins.join(",")
    })
  )
)

const keyFormat = "32 bytes in base64 (as `openssl rand -base64 32` prints)"

// The messages never quote the value: it is a secret.
const encryptionKey = Schema.String.check(
  Schema.makeFilter((raw: string) => ArtifactCipher.decodeKey(raw) !== undefined || `must be ${keyFormat}`)
)

const decryptionKeys = Schema.String.check(Schema.makeFilter((raw: string) => {
  const entries = raw.split(",")
  const bad = entries.findIndex((entry) => ArtifactCipher.decodeKey(entry) === undefined)
  return bad === -1 || `entry ${bad + 1} of ${entries.length} must be ${keyFormat}; separate keys with commas`
}))

/** `config` when the variable is set and not empty; otherwise `fallback`. */
const unlessEmpty = <A, B>(name: string, config: Config.Config<A>, fallback: B): Config.Config<A | B> =>
  Config.String(name).pipe(
    Config.option,
    Config.flatMap((raw): Config.Config<A | B> =>
      Option.isSome(raw) && raw.value !== "" ? config : Config.succeed(fallback)
    )
  )

const setting = <A, B>(name: string, schema: Schema.Codec<A, string>, fallback: B): Config.Config<A | B> =>
  unlessEmpty(name, Config.schema(schema, name), fallback)

const integer = (name: string, fallback: number, min: number, max: number) =>
  setting(name, wholeNumber(min, max), fallback)

// Read in this order, so the first bad variable named is the one reported, as it always was.
const checkedFirst = Config.all({
  // Unlike the others, an empty value here is refused rather than defaulted.
  demoteProductionTo: Config.schema(demotionTarget, "ML_DEMOTE_PRODUCTION_TO").pipe(
    Config.withDefault("archived" as const)
  ),
  onlineStrategy: setting(
    "ML_ONLINE_STRATEGY",
    oneOf(strategies, `must be one of ${strategies.join(", ")}`),
    "mini-batch" as const
  ),
  online: integer("ML_ONLINE_MAX_BUFFER", 100_000, 1, 10_000_000).pipe(
    Config.flatMap((onlineMaxBuffer) =>
      Config.map(integer("ML_ONLINE_BATCH_SIZE", 100, 1, onlineMaxBuffer), (onlineBatchSize) => ({
        onlineMaxBuffer,
        onlineBatchSize
      }))
    )
  ),
  redisUrl: setting("ML_REDIS_URL", redisUrl, undefined),
  databaseUrl: setting("ML_DATABASE_URL", databaseUrl, undefined)
})

/** The whole server configuration as one Config, to parse with any ConfigProvider. */
export const serverConfig: Config.Config<ServerConfig> = Config.all({
  first: checkedFirst,
  port: integer("ML_PORT", 8080, 0, 65535),
  host: setting("ML_HOST", Schema.String, "127.0.0.1"),
  storageDir: setting("ML_MODEL_STORAGE_DIR", Schema.String, "./.ml-data"),
  minFreeBytes: integer("ML_MIN_FREE_BYTES", 16 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
  redisPrefix: setting("ML_REDIS_PREFIX", Schema.String, ""),
  redisCommandTimeoutMs: integer("ML_REDIS_COMMAND_TIMEOUT_MS", 2000, 10, 600_000),
  redisConnectTimeoutMs: integer("ML_REDIS_CONNECT_TIMEOUT_MS", 5000, 10, 600_000),
  redisMarkerCheckMs: integer("ML_REDIS_MARKER_CHECK_MS", 1000, 10, 3_600_000),
  redisAcceptEmpty: setting("ML_REDIS_ACCEPT_EMPTY", boolean, false),
  maxUploadBytes: integer("ML_MAX_UPLOAD_BYTES", 10 * 1024 ** 3, 0, Number.MAX_SAFE_INTEGER),
  maxJsonBytes: integer("ML_MAX_JSON_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024),
  // Set but empty or short is refused: an empty token would silently leave the server open.
  apiToken: Config.schema(Schema.Redacted(bootstrapToken), "ML_API_TOKEN").pipe(
    Config.option,
    Config.map(Option.getOrUndefined)
  ),
  artifactEncryption: Config.all({
    current: setting("ML_ARTIFACT_ENCRYPTION_KEY", encryptionKey, undefined),
    old: setting("ML_ARTIFACT_DECRYPTION_KEYS", decryptionKeys, undefined)
  }).pipe(
    Config.map(({ current, old }) =>
      current === undefined && old === undefined ? undefined : Redacted.make<ArtifactCipher.ArtifactKeyring>({
        current: current === undefined ? undefined : ArtifactCipher.decodeKey(current)!,
        decryptionKeys: (old?.split(",") ?? []).map((entry) => ArtifactCipher.decodeKey(entry)!)
      })
    )
  ),
  shutdownTimeoutMs: integer("ML_SHUTDOWN_TIMEOUT_MS", 30_000, 0, 600_000),
  abStickyAssignment: setting("ML_AB_STICKY_ASSIGNMENT", boolean, true),
  webhookAllowPrivate: setting("ML_WEBHOOK_ALLOW_PRIVATE", boolean, false),
  abMinSamples: integer("ML_AB_MIN_SAMPLES", 1000, 2, Number.MAX_SAFE_INTEGER),
  abReweightIntervalSeconds: integer("ML_AB_REWEIGHT_INTERVAL", 300, 0, 86_400),
  abAssignmentRetentionSeconds: integer("ML_AB_ASSIGNMENT_RETENTION", 30 * 86_400, 1, 100 * 365 * 86_400),
  driftThreshold: setting("ML_DRIFT_THRESHOLD", probability, 0.05),
  driftWindowSize: integer("ML_DRIFT_WINDOW_SIZE", 1000, 10, 1_000_000),
  driftCheckIntervalSeconds: integer("ML_DRIFT_CHECK_INTERVAL", 300, 1, 86_400 * 7),
  driftTickMillis: integer("ML_DRIFT_SCHEDULER_TICK_MS", 1000, 10, 3_600_000),
  corsOrigins: setting("ML_CORS_ORIGINS", corsOrigins, [] as ReadonlyArray<string>),
  rateLimitPerSecond: setting("ML_RATE_LIMIT_PER_SECOND", nonNegativeRate, 0),
  rateLimitBurst: integer("ML_RATE_LIMIT_BURST", 100, 1, 1_000_000_000)
}).pipe(Config.map(({ first: { online, ...first }, ...rest }) => ({ ...first, ...online, ...rest })))

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The first problem, as "VARIABLE: what is wrong". */
const toConfigError = (error: Config.ConfigError): ConfigError => {
  if (error.cause._tag !== "SchemaError") return new ConfigError("environment", error.message)
  const [first] = formatter(error.cause.issue).issues
  const segment = first?.path?.[0]
  const variable = typeof segment === "object" && segment !== null ? String(segment.key) : String(segment)
  return new ConfigError(variable, first?.message ?? error.message)
}

/**
 * Reads the configuration from `env` (process.env in production); throws a ConfigError naming
 * the first variable with a bad value. Empty strings are kept as values by the provider, so
 * each variable decides what empty means (see `unlessEmpty`).
 */
export const loadConfig = (env: Record<string, string | undefined>): ServerConfig => {
  const provider = ConfigProvider.fromEnvRecord(env, { preserveEmptyStrings: true })
  const exit = Effect.runSyncExit(serverConfig.parse(provider))
  if (Exit.isSuccess(exit)) {
    if (exit.value.databaseUrl !== undefined && exit.value.redisUrl !== undefined) {
      // Each holds every record in its mode; a mix would need a documented split first.
      throw new ConfigError("ML_DATABASE_URL", "cannot be combined with ML_REDIS_URL: set one of them")
    }
    return exit.value
  }
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error
  throw error === undefined ? new Error(String(exit.cause)) : toConfigError(error)
}
