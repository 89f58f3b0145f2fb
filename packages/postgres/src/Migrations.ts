/**
 * The versioned schema of the PostgreSQL adapters. Migrations are applied in order at start, in
 * one transaction under an advisory lock, so many instances starting at once apply each exactly
 * once (the others wait, then find nothing to do). The versions applied are recorded in
 * `ml_schema_migrations`; a database whose schema is newer than this code knows is refused, since
 * older code writing a newer schema could lose what the newer code relies on.
 */
import { StorageError } from "@org/ml-core"
import type { Sql } from "postgres"

export interface Migration {
  readonly version: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

// Text that is compared or sorted is COLLATE "C": byte order is the order of the memory stores
// (JavaScript string comparison for the ASCII ids and names), and `LIKE 'prefix%'` can use the index.
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    name: "models and audit events",
    statements: [
      `CREATE TABLE ml_models (
        id text COLLATE "C" PRIMARY KEY,
        name text COLLATE "C" NOT NULL,
        version text COLLATE "C" NOT NULL,
        status text NOT NULL,
        framework text NOT NULL,
        parent_model_id text COLLATE "C",
        tags text[] NOT NULL,
        revision integer NOT NULL,
        record jsonb NOT NULL,
        UNIQUE (name, version)
      )`,
      `CREATE INDEX ml_models_name_id ON ml_models (name, id)`,
      `CREATE INDEX ml_models_status ON ml_models (status)`,
      `CREATE INDEX ml_models_parent ON ml_models (parent_model_id) WHERE parent_model_id IS NOT NULL`,
      `CREATE TABLE ml_production (
        name text COLLATE "C" PRIMARY KEY,
        model_id text COLLATE "C" NOT NULL REFERENCES ml_models (id)
      )`,
      `CREATE TABLE ml_audit_events (
        seq bigserial PRIMARY KEY,
        model_id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        event jsonb NOT NULL
      )`,
      `CREATE INDEX ml_audit_events_model ON ml_audit_events (model_id, seq)`,
      `CREATE INDEX ml_audit_events_name ON ml_audit_events (name, seq)`
    ]
  },
  {
    version: 2,
    name: "api keys and key events",
    statements: [
      `CREATE TABLE ml_api_keys (
        token_hash text COLLATE "C" PRIMARY KEY,
        id text COLLATE "C" NOT NULL UNIQUE,
        created_at text COLLATE "C" NOT NULL,
        revoked_at text,
        record jsonb NOT NULL
      )`,
      `CREATE TABLE ml_key_events (seq bigserial PRIMARY KEY, event jsonb NOT NULL)`
    ]
  },
  {
    version: 3,
    name: "leases",
    statements: [
      `CREATE TABLE ml_leases (
        name text COLLATE "C" PRIMARY KEY,
        owner text NOT NULL,
        expires_at timestamptz NOT NULL
      )`
    ]
  },
  {
    version: 4,
    name: "experiments, sticky assignments and their counters",
    statements: [
      `CREATE TABLE ml_experiments (
        id text COLLATE "C" PRIMARY KEY,
        created_at text COLLATE "C" NOT NULL,
        revision integer NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE TABLE ml_assignments (
        experiment_id text COLLATE "C" NOT NULL,
        user_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (experiment_id, user_id)
      )`,
      `CREATE TABLE ml_experiment_exposures (
        experiment_id text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (experiment_id, variant)
      )`,
      `CREATE TABLE ml_experiment_daily_exposures (
        experiment_id text COLLATE "C" NOT NULL,
        day text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (experiment_id, day, variant)
      )`,
      `CREATE TABLE ml_experiment_metrics (
        experiment_id text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        metric text COLLATE "C" NOT NULL,
        summary jsonb NOT NULL,
        PRIMARY KEY (experiment_id, variant, metric)
      )`
    ]
  },
  {
    version: 5,
    name: "drift monitors, baselines, windows, alert states, reports, webhooks and deliveries",
    statements: [
      `CREATE TABLE ml_drift_monitors (
        id text COLLATE "C" PRIMARY KEY,
        seq bigserial NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE TABLE ml_drift_baselines (
        seq bigserial PRIMARY KEY,
        monitor_id text COLLATE "C" NOT NULL,
        feature text COLLATE "C" NOT NULL,
        baseline jsonb NOT NULL
      )`,
      `CREATE INDEX ml_drift_baselines_feature ON ml_drift_baselines (monitor_id, feature, seq)`,
      // One row per window: its lock, the values stored and how many of the oldest chunk are already out.
      `CREATE TABLE ml_drift_windows (
        monitor_id text COLLATE "C" NOT NULL,
        feature text COLLATE "C" NOT NULL,
        count bigint NOT NULL,
        skip bigint NOT NULL,
        PRIMARY KEY (monitor_id, feature)
      )`,
      // One row per recorded batch: a batch of 10,000 values is one row, not 10,000.
      `CREATE TABLE ml_drift_window_chunks (
        seq bigserial PRIMARY KEY,
        monitor_id text COLLATE "C" NOT NULL,
        feature text COLLATE "C" NOT NULL,
        length integer NOT NULL,
        "values" jsonb NOT NULL
      )`,
      `CREATE INDEX ml_drift_window_chunks_window ON ml_drift_window_chunks (monitor_id, feature, seq)`,
      `CREATE TABLE ml_drift_alert_states (
        monitor_id text COLLATE "C" NOT NULL,
        feature text COLLATE "C" NOT NULL,
        state jsonb NOT NULL,
        PRIMARY KEY (monitor_id, feature)
      )`,
      `CREATE TABLE ml_drift_reports (
        seq bigserial PRIMARY KEY,
        monitor_id text COLLATE "C" NOT NULL,
        at text COLLATE "C" NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE INDEX ml_drift_reports_monitor ON ml_drift_reports (monitor_id, at)`,
      `CREATE TABLE ml_drift_webhooks (
        id text COLLATE "C" PRIMARY KEY,
        seq bigserial NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE TABLE ml_drift_deliveries (
        seq bigserial PRIMARY KEY,
        webhook_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE INDEX ml_drift_deliveries_webhook ON ml_drift_deliveries (webhook_id, seq)`
    ]
  },
  {
    version: 6,
    name: "pipelines, sample buffers, learner states and updates",
    statements: [
      `CREATE TABLE ml_pipelines (
        id text COLLATE "C" PRIMARY KEY,
        seq bigserial NOT NULL,
        revision integer NOT NULL,
        record jsonb NOT NULL
      )`,
      // One row per pipeline with samples: its counters, the sizes of its bounded lists (so trimming
      // deletes exactly the excess, without counting), and the lock every sample write takes.
      `CREATE TABLE ml_pipeline_counters (
        pipeline_id text COLLATE "C" PRIMARY KEY,
        received bigint NOT NULL DEFAULT 0,
        duplicates bigint NOT NULL DEFAULT 0,
        dropped bigint NOT NULL DEFAULT 0,
        processed bigint NOT NULL DEFAULT 0,
        buffered bigint NOT NULL DEFAULT 0,
        seen bigint NOT NULL DEFAULT 0,
        progressive bigint NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE ml_pipeline_samples (
        seq bigserial PRIMARY KEY,
        pipeline_id text COLLATE "C" NOT NULL,
        sample_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE INDEX ml_pipeline_samples_order ON ml_pipeline_samples (pipeline_id, seq)`,
      `CREATE INDEX ml_pipeline_samples_id ON ml_pipeline_samples (pipeline_id, sample_id)`,
      `CREATE TABLE ml_pipeline_seen (
        seq bigserial NOT NULL,
        pipeline_id text COLLATE "C" NOT NULL,
        sample_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (pipeline_id, sample_id)
      )`,
      `CREATE INDEX ml_pipeline_seen_order ON ml_pipeline_seen (pipeline_id, seq)`,
      `CREATE TABLE ml_pipeline_progressive (
        seq bigserial PRIMARY KEY,
        pipeline_id text COLLATE "C" NOT NULL,
        prediction double precision NOT NULL,
        label double precision NOT NULL
      )`,
      `CREATE INDEX ml_pipeline_progressive_order ON ml_pipeline_progressive (pipeline_id, seq)`,
      `CREATE TABLE ml_pipeline_validation (
        seq bigserial PRIMARY KEY,
        pipeline_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE INDEX ml_pipeline_validation_order ON ml_pipeline_validation (pipeline_id, seq)`,
      `CREATE TABLE ml_pipeline_states (
        pipeline_id text COLLATE "C" PRIMARY KEY,
        state jsonb NOT NULL
      )`,
      `CREATE TABLE ml_pipeline_updates (
        seq bigserial PRIMARY KEY,
        pipeline_id text COLLATE "C" NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE INDEX ml_pipeline_updates_order ON ml_pipeline_updates (pipeline_id, seq)`
    ]
  },
  {
    version: 7,
    name: "rate-limit token buckets",
    statements: [
      `CREATE TABLE ml_rate_buckets (
        key text COLLATE "C" PRIMARY KEY,
        tokens double precision NOT NULL,
        at_ms double precision NOT NULL,
        allowed boolean NOT NULL
      )`,
      `CREATE INDEX ml_rate_buckets_at ON ml_rate_buckets (at_ms)`,
      // RateLimiter.refill in SQL: the stored tokens plus what the elapsed time added, at most the burst.
      `CREATE FUNCTION ml_bucket_refill(tokens float8, at_ms float8, now_ms float8, burst float8, per_second float8)
        RETURNS float8 LANGUAGE sql IMMUTABLE
        AS $$ SELECT least(burst, tokens + greatest(0, now_ms - at_ms) * per_second / 1000) $$`
    ]
  },
  {
    version: 8,
    name: "sticky assignments expire after their experiment completes",
    statements: [
      `ALTER TABLE ml_assignments ADD COLUMN expires_at timestamptz`,
      `CREATE INDEX ml_assignments_expiry ON ml_assignments (expires_at) WHERE expires_at IS NOT NULL`
    ]
  },
  {
    version: 9,
    name: "instance marker",
    statements: [
      // One row, written once with the schema: a database emptied or replaced has another id.
      `CREATE TABLE ml_instance (
        id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        single boolean NOT NULL DEFAULT true UNIQUE CHECK (single)
      )`,
      `INSERT INTO ml_instance (id) VALUES (gen_random_uuid()::text)`
    ]
  },
  {
    version: 10,
    name: "live learner states in format 2 (binary)",
    statements: [
      // New writes fill `encoded` (format-2 bytes) and clear `state`; rows written before keep their
      // format-1 JSON until the pipeline's next accepted update. Exactly one of the two is set.
      `ALTER TABLE ml_pipeline_states ALTER COLUMN state DROP NOT NULL`,
      `ALTER TABLE ml_pipeline_states ADD COLUMN encoded bytea`,
      `ALTER TABLE ml_pipeline_states ADD CONSTRAINT ml_pipeline_states_one_form
        CHECK ((state IS NULL) <> (encoded IS NULL))`
    ]
  },
  {
    version: 11,
    name: "drift reports found by id",
    statements: [`CREATE INDEX ml_drift_reports_id ON ml_drift_reports ((record->>'id'))`]
  },
  {
    version: 12,
    name: "running minima of always-valid p-values",
    statements: [
      // One row per experiment x treatment x metric, lowered with LEAST at each look.
      `CREATE TABLE ml_experiment_sequential (
        experiment_id text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        metric text COLLATE "C" NOT NULL,
        p_value float8 NOT NULL CHECK (p_value >= 0 AND p_value <= 1),
        PRIMARY KEY (experiment_id, variant, metric)
      )`
    ]
  },
  {
    version: 13,
    name: "paired summaries of metrics (CUPED covariates, ratio denominators)",
    statements: [
      // Null until an observation of the (variant, metric) carries a covariate or a denominator.
      `ALTER TABLE ml_experiment_metrics ADD COLUMN covariate_pairs jsonb`,
      `ALTER TABLE ml_experiment_metrics ADD COLUMN denominator_pairs jsonb`
    ]
  },
  {
    version: 14,
    name: "SDK connections",
    statements: [
      // Client keys are looked up on every features request: unique, so the lookup is an index read.
      `CREATE TABLE ml_sdk_connections (
        id text COLLATE "C" PRIMARY KEY,
        client_key text COLLATE "C" NOT NULL UNIQUE,
        created_at text NOT NULL,
        record jsonb NOT NULL
      )`,
      `CREATE TABLE ml_sdk_connection_events (
        seq bigserial PRIMARY KEY,
        event jsonb NOT NULL
      )`
    ]
  },
  {
    version: 15,
    name: "dimension breakdowns of experiments",
    statements: [
      // The distinct values kept per dimension (capped by the store; "_other" takes no place).
      `CREATE TABLE ml_experiment_dimension_values (
        experiment_id text COLLATE "C" NOT NULL,
        dimension text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        PRIMARY KEY (experiment_id, dimension, value)
      )`,
      `CREATE TABLE ml_experiment_dimension_metrics (
        experiment_id text COLLATE "C" NOT NULL,
        dimension text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        metric text COLLATE "C" NOT NULL,
        summary jsonb NOT NULL,
        PRIMARY KEY (experiment_id, dimension, value, variant, metric)
      )`,
      `CREATE TABLE ml_experiment_dimension_exposures (
        experiment_id text COLLATE "C" NOT NULL,
        dimension text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        variant integer NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (experiment_id, dimension, value, variant)
      )`
    ]
  },
  {
    version: 16,
    name: "registered models and their aliases",
    statements: [
      // One row per name: the record (description, owner, tags, alias pointers) and its revision,
      // compared and replaced by a commit under the name's advisory lock.
      `CREATE TABLE ml_registered_models (
        name text COLLATE "C" PRIMARY KEY,
        revision integer NOT NULL,
        record jsonb NOT NULL
      )`
    ]
  },
  {
    version: 17,
    name: "registry search indexes",
    // The search's JSONB conditions (ModelSearch.ts): containment on key-value tags, key presence on
    // metrics and parameters, and label containment on the tags array are GIN-indexable.
    statements: [
      `CREATE INDEX ml_models_key_value_tags ON ml_models USING GIN ((record->'keyValueTags'))`,
      `CREATE INDEX ml_models_metrics ON ml_models USING GIN ((record->'metrics'))`,
      `CREATE INDEX ml_models_parameters ON ml_models USING GIN ((record->'parameters'))`,
      `CREATE INDEX ml_models_labels ON ml_models USING GIN (tags)`
    ]
  },
  {
    version: 18,
    name: "registry event cursors",
    statements: [
      // ml_audit_events.seq is the outbox sequence; a consumer (a webhook) remembers the last it handled.
      `CREATE TABLE ml_event_cursors (
        consumer text COLLATE "C" PRIMARY KEY,
        sequence bigint NOT NULL
      )`
    ]
  },
  {
    version: 19,
    name: "definition history of experiments",
    statements: [
      // One row per committed definition (DefinitionHistory.ts), written in the commit's transaction;
      // the newest MAX_DEFINITION_HISTORY per experiment are kept. Experiments of older schemas start
      // their history at the next commit.
      `CREATE TABLE ml_experiment_definitions (
        experiment_id text COLLATE "C" NOT NULL,
        revision integer NOT NULL,
        record jsonb NOT NULL,
        PRIMARY KEY (experiment_id, revision)
      )`
    ]
  }
]

export const latestVersion = (list: ReadonlyArray<Migration> = migrations): number =>
  list.reduce((max, m) => Math.max(max, m.version), 0)

/** One key for every instance of every version of the adapters: the migration lock of a database. */
export const migrationLockKey = 7_236_828_143_810_256_001n

export class SchemaTooNewError extends Error {
  readonly _tag = "SchemaTooNewError"
}

export interface MigrationOutcome {
  /** The schema version before this start. */
  readonly from: number
  readonly to: number
  /** Versions this call applied (empty when another instance had applied them). */
  readonly applied: ReadonlyArray<number>
}

/**
 * Brings the database to the newest schema this code knows; rejects with SchemaTooNewError when
 * the database records a newer one. Safe to call from many processes at once.
 */
export const migrate = async (sql: Sql, list: ReadonlyArray<Migration> = migrations): Promise<MigrationOutcome> => {
  const target = latestVersion(list)
  return await sql.begin(async (tx) => {
    // Transaction-scoped: released at commit or rollback, also when the process dies mid-way.
    await tx`SELECT pg_advisory_xact_lock(${migrationLockKey.toString()}::bigint)`
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ml_schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const [row] = await tx<Array<{ version: number | null }>>`SELECT max(version) AS version FROM ml_schema_migrations`
    const current = row?.version ?? 0
    if (current > target) {
      throw new SchemaTooNewError(
        `The database schema is version ${current}, newer than this server knows (${target}): ` +
          `upgrade the server to a version that knows schema ${current}; it was not changed`
      )
    }
    const pending = list.filter((m) => m.version > current).sort((a, b) => a.version - b.version)
    for (const migration of pending) {
      for (const statement of migration.statements) await tx.unsafe(statement)
      await tx`INSERT INTO ml_schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`
    }
    return { from: current, to: Math.max(current, target), applied: pending.map((m) => m.version) }
  }) as MigrationOutcome
}

/** A migration failure as the StorageError start-up reports (a too-new schema keeps its own message). */
export const migrationFailure = (cause: unknown) =>
  new StorageError({
    message: cause instanceof SchemaTooNewError
      ? cause.message
      : `Migrating the PostgreSQL schema failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    cause
  })
