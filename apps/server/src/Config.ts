/**
 * Server configuration, read from environment variables through Effect's `Config` and a
 * ConfigProvider, and validated at start-up: a bad value stops the server with a message naming
 * the variable, instead of surfacing later as odd behaviour. Each variable's rule is a Schema;
 * an unset or empty variable takes its default (README lists both). The API token is `Redacted`,
 * so printing the configuration never shows it.
 */
import { ArtifactCipher } from "@org/ml-adapter-fs"
import { RedisCluster } from "@org/ml-adapter-redis"
import { ArtifactUrl } from "@org/ml-adapter-s3"
import { redactUrl } from "@org/ml-core"
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
  /** Seed nodes of a Redis Cluster (`host:port,...`); the server then uses a cluster client. */
  readonly redisClusterNodes: ReadonlyArray<RedisCluster.ClusterNode> | undefined
  /** The user name and password of every cluster node (`redis://user:password@host:port,...`; Redacted). */
  readonly redisClusterCredentials: Redacted.Redacted<RedisCluster.Credentials> | undefined
  /** TLS to every cluster node (`rediss://host:port,...`). */
  readonly redisClusterTls: boolean
  /** A PEM file of the CA certificates trusted for rediss:// (ML_REDIS_TLS_CA; default: the system's). */
  readonly redisTlsCaFile: string | undefined
  /** PostgreSQL for every record (ML_DATABASE_URL), or for the durable ones when a Redis is set too. */
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
  /** Artifacts in an S3-compatible bucket (ML_ARTIFACT_URL=s3://...); undefined: in the data directory. */
  readonly s3Artifacts: S3ArtifactConfig | undefined
  readonly shutdownTimeoutMs: number
  /**
   * How long the storage-derived gauges of /metrics are reused before a scrape rebuilds them
   * (ML_METRICS_MAX_AGE_MS; 0: every scrape rebuilds). Bounds how late a change made through
   * another instance shows.
   */
  readonly metricsMaxAgeMs: number
  readonly abStickyAssignment: boolean
  /** Let webhooks point at loopback and private addresses (tests and single-host setups). */
  readonly webhookAllowPrivate: boolean
  readonly abMinSamples: number
  /** Seconds between Thompson-sampling reweights of running bandit experiments (0: on demand only). */
  readonly abReweightIntervalSeconds: number
  /** Seconds between safe-rollout checks (guardrails, ramps) of running experiments (0: only at results looks). */
  readonly abSafeRolloutIntervalSeconds: number
  readonly driftThreshold: number
  readonly driftWindowSize: number
  readonly driftCheckIntervalSeconds: number
  /** How often the drift scheduler looks for due monitors, in ms. */
  readonly driftTickMillis: number
  /** Milliseconds between deliveries of registry events to webhooks (0: this instance does not deliver). */
  readonly registryEventsTickMillis: number
  /** Defaults for new online-learning pipelines. */
  readonly onlineStrategy: "incremental" | "mini-batch" | "periodic" | "adaptive"
  readonly onlineBatchSize: number
  readonly onlineMaxBuffer: number
  /** Browser origins allowed to call the API (CORS); empty: CORS is off. */
  readonly corsOrigins: ReadonlyArray<string>
  /** Per-key token bucket on /v1 routes: refill rate per second (0: no rate limit) and capacity. */
  readonly rateLimitPerSecond: number
  readonly rateLimitBurst: number
  /** Answer the hot POST routes straight from Node's request and response (FastPath.ts); false: all through Hono. */
  readonly fastPath: boolean
}

export interface S3ArtifactConfig {
  readonly bucket: string
  readonly prefix: string
  readonly endpoint: string
  readonly region: string
  readonly forcePathStyle: boolean
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; loadConfig refuses them missing. */
  readonly credentials: Redacted.Redacted<{
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string | undefined
  }>
  /** The credential variable that is not set, if any. */
  readonly missingCredential: "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | undefined
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

const artifactUrl = Schema.String.check(
  Schema.makeFilter((raw: string) => {
    const parsed = ArtifactUrl.parse(raw)
    return typeof parsed !== "string" || parsed
  })
)

const clusterNodes = Schema.String.check(
  Schema.makeFilter((raw: string) => {
    const parsed = RedisCluster.parseClusterSetting(raw)
    return typeof parsed !== "string" || parsed
  })
)

/** One part of ML_REDIS_CLUSTER_NODES (nodes, credentials, TLS), undefined when it is not set. */
const clusterSetting = <A>(part: (setting: RedisCluster.ClusterSetting) => A) =>
  setting("ML_REDIS_CLUSTER_NODES", clusterNodes, undefined).pipe(
    Config.map((raw) =>
      raw === undefined ? undefined : part(RedisCluster.parseClusterSetting(raw) as RedisCluster.ClusterSetting)
    )
  )

const endpointUrl = Schema.String.check(
  Schema.makeFilter((raw: string) =>
    /^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(raw) || `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`
  )
)

const regionName = Schema.String.check(
  Schema.makeFilter((raw: string) =>
    /^[a-z0-9-]{1,64}$/.test(raw) || `must be a region name like eu-west-1, got ${JSON.stringify(raw)}`
  )
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

/** The first of `names` that is set and not empty (ours first, then the AWS variables). */
const firstSetting = <A>(names: ReadonlyArray<string>, schema: Schema.Codec<A, string>): Config.Config<A | undefined> =>
  names.reduceRight<Config.Config<A | undefined>>(
    (fallback, name) =>
      unlessEmpty(name, Config.schema(schema, name), undefined).pipe(
        Config.flatMap((value) => (value === undefined ? fallback : Config.succeed(value)))
      ),
    Config.succeed(undefined)
  )

/**
 * The S3 settings, read only when ML_ARTIFACT_URL is set. The standard AWS variables are honoured;
 * an explicit endpoint (MinIO, R2, GCS, s3rver) defaults to path-style addressing, AWS to virtual hosts.
 */
const s3ArtifactConfig: Config.Config<S3ArtifactConfig | undefined> = setting("ML_ARTIFACT_URL", artifactUrl, undefined)
  .pipe(
    Config.flatMap((url): Config.Config<S3ArtifactConfig | undefined> => {
      if (url === undefined) return Config.succeed(undefined)
      const location = ArtifactUrl.parse(url) as ArtifactUrl.ArtifactLocation
      return Config.all({
        endpoint: firstSetting(["ML_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"], endpointUrl),
        region: firstSetting(["ML_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"], regionName),
        forcePathStyle: setting("ML_S3_FORCE_PATH_STYLE", boolean, undefined),
        accessKeyId: setting("AWS_ACCESS_KEY_ID", Schema.String, undefined),
        secretAccessKey: setting("AWS_SECRET_ACCESS_KEY", Schema.String, undefined),
        sessionToken: setting("AWS_SESSION_TOKEN", Schema.String, undefined)
      }).pipe(Config.map(({ accessKeyId, endpoint, forcePathStyle, region, secretAccessKey, sessionToken }) => {
        const regionOrDefault = region ?? "us-east-1"
        return {
          ...location,
          endpoint: (endpoint ?? `https://s3.${regionOrDefault}.amazonaws.com`).replace(/\/+$/, ""),
          region: regionOrDefault,
          forcePathStyle: forcePathStyle ?? endpoint !== undefined,
          credentials: Redacted.make({
            accessKeyId: accessKeyId ?? "",
            secretAccessKey: secretAccessKey ?? "",
            sessionToken
          }),
          missingCredential: accessKeyId === undefined
            ? "AWS_ACCESS_KEY_ID" as const
            : secretAccessKey === undefined
            ? "AWS_SECRET_ACCESS_KEY" as const
            : undefined
        }
      }))
    })
  )

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
  redisClusterNodes: clusterSetting(({ nodes }) => nodes),
  redisClusterCredentials: clusterSetting(({ credentials }) =>
    credentials === undefined ? undefined : Redacted.make(credentials)
  ),
  redisClusterTls: clusterSetting(({ tls }) => tls).pipe(Config.map((tls) => tls === true)),
  redisTlsCaFile: setting("ML_REDIS_TLS_CA", Schema.String, undefined),
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
  s3Artifacts: s3ArtifactConfig,
  shutdownTimeoutMs: integer("ML_SHUTDOWN_TIMEOUT_MS", 30_000, 0, 600_000),
  metricsMaxAgeMs: integer("ML_METRICS_MAX_AGE_MS", 10_000, 0, 3_600_000),
  abStickyAssignment: setting("ML_AB_STICKY_ASSIGNMENT", boolean, true),
  webhookAllowPrivate: setting("ML_WEBHOOK_ALLOW_PRIVATE", boolean, false),
  abMinSamples: integer("ML_AB_MIN_SAMPLES", 1000, 2, Number.MAX_SAFE_INTEGER),
  abReweightIntervalSeconds: integer("ML_AB_REWEIGHT_INTERVAL", 300, 0, 86_400),
  abSafeRolloutIntervalSeconds: integer("ML_AB_SAFE_ROLLOUT_INTERVAL", 60, 0, 86_400),
  abAssignmentRetentionSeconds: integer("ML_AB_ASSIGNMENT_RETENTION", 30 * 86_400, 1, 100 * 365 * 86_400),
  driftThreshold: setting("ML_DRIFT_THRESHOLD", probability, 0.05),
  driftWindowSize: integer("ML_DRIFT_WINDOW_SIZE", 1000, 10, 1_000_000),
  driftCheckIntervalSeconds: integer("ML_DRIFT_CHECK_INTERVAL", 300, 1, 86_400 * 7),
  driftTickMillis: integer("ML_DRIFT_SCHEDULER_TICK_MS", 1000, 10, 3_600_000),
  registryEventsTickMillis: integer("ML_REGISTRY_EVENTS_TICK_MS", 1000, 0, 3_600_000),
  corsOrigins: setting("ML_CORS_ORIGINS", corsOrigins, [] as ReadonlyArray<string>),
  rateLimitPerSecond: setting("ML_RATE_LIMIT_PER_SECOND", nonNegativeRate, 0),
  rateLimitBurst: integer("ML_RATE_LIMIT_BURST", 100, 1, 1_000_000_000),
  fastPath: setting("ML_FAST_PATH", boolean, true)
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

/** S3 artifacts: the credentials are there, and encryption at rest is the bucket's job. */
const checkS3Artifacts = (config: ServerConfig): ServerConfig => {
  if (config.s3Artifacts === undefined) return config
  if (config.s3Artifacts.missingCredential !== undefined) {
    throw new ConfigError(config.s3Artifacts.missingCredential, "must be set when ML_ARTIFACT_URL is an s3:// URL")
  }
  if (config.artifactEncryption !== undefined) {
    // Silently storing plaintext in the bucket would be worse than refusing to start.
    throw new ConfigError(
      "ML_ARTIFACT_ENCRYPTION_KEY",
      "is for artifacts in the data directory; with ML_ARTIFACT_URL=s3://... use the bucket's server-side " +
        "encryption (on by default on AWS S3) and unset ML_ARTIFACT_ENCRYPTION_KEY and ML_ARTIFACT_DECRYPTION_KEYS"
    )
  }
  return config
}

/**
 * One Redis or one cluster; on a cluster the adapters tag keys themselves, so the prefix holds no
 * tag. A CA file is for TLS: set without rediss:// it would be ignored and the connection plain.
 */
const checkRedisMode = (config: ServerConfig): ServerConfig => {
  if (
    config.redisTlsCaFile !== undefined &&
    !(config.redisClusterNodes === undefined ? /^rediss:/i.test(config.redisUrl ?? "") : config.redisClusterTls)
  ) {
    throw new ConfigError(
      "ML_REDIS_TLS_CA",
      "is for TLS: write ML_REDIS_URL or ML_REDIS_CLUSTER_NODES as rediss://..., or unset ML_REDIS_TLS_CA"
    )
  }
  if (config.redisClusterNodes === undefined) return config
  if (config.redisUrl !== undefined) {
    throw new ConfigError("ML_REDIS_CLUSTER_NODES", "set either ML_REDIS_URL or ML_REDIS_CLUSTER_NODES, not both")
  }
  if (/[{}]/.test(config.redisPrefix)) {
    throw new ConfigError(
      "ML_REDIS_PREFIX",
      "must not hold a hash tag ({ or }) with ML_REDIS_CLUSTER_NODES: " +
        "each entity gets its own tag, so keys spread over the nodes"
    )
  }
  return config
}

/**
 * Reads the configuration from `env` (process.env in production); throws a ConfigError naming
 * the first variable with a bad value. Empty strings are kept as values by the provider, so
 * each variable decides what empty means (see `unlessEmpty`).
 */
export const loadConfig = (env: Record<string, string | undefined>): ServerConfig => {
  const provider = ConfigProvider.fromEnvRecord(env, { preserveEmptyStrings: true })
  const exit = Effect.runSyncExit(serverConfig.parse(provider))
  // Rules across variables, each naming the variable to change.
  if (Exit.isSuccess(exit)) return checkRedisMode(checkS3Artifacts(exit.value))
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")?.error
  throw error === undefined ? new Error(String(exit.cause)) : toConfigError(error)
}

/**
 * Where a configuration keeps records and artifacts, in words for the start-up line and
 * `ml-server migrate` (never a credential).
 */
export const describeStorage = (config: ServerConfig): string => {
  const artifacts = config.s3Artifacts === undefined
    ? `artifacts in ${config.storageDir}`
    : `artifacts in s3://${config.s3Artifacts.bucket}/${config.s3Artifacts.prefix} at ${config.s3Artifacts.endpoint}`
  const redis = config.redisClusterNodes !== undefined
    ? `redis cluster ${RedisCluster.describeNodes(config.redisClusterNodes)}`
    : config.redisUrl !== undefined
    ? `redis ${redactUrl(config.redisUrl)}`
    : undefined
  const prefix = config.redisPrefix === "" ? "" : ` prefix "${config.redisPrefix}"`
  if (config.databaseUrl !== undefined) {
    const records = `postgresql records (${redactUrl(config.databaseUrl)})`
    return redis === undefined ? `${records}, ${artifacts}` : `${records}, hot paths in ${redis}${prefix}, ${artifacts}`
  }
  if (redis !== undefined) return `${redis.replace(/^redis( cluster)? /, "redis$1 metadata (")})${prefix}, ${artifacts}`
  return config.s3Artifacts === undefined
    ? `embedded storage in ${config.storageDir}`
    : `embedded metadata in ${config.storageDir}, ${artifacts}`
}
