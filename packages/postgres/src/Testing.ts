/**
 * Test helpers (exported as @org/ml-adapter-postgres/testing). The real PostgreSQL for integration
 * tests: ML_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres). A missing
 * server fails the suite; it never skips. Each test database has a unique name and is the only one
 * dropped afterwards (the server may be shared).
 */
import postgres from "postgres"

export const adminUrl = process.env.ML_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"

/** `adminUrl` pointing at another database of the same server. */
export const urlOfDatabase = (database: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export interface TestDatabase {
  readonly name: string
  readonly url: string
  readonly drop: () => Promise<void>
}

/** Creates an empty database with a unique name; `drop` removes it (and only it). */
export const freshDatabase = async (label: string): Promise<TestDatabase> => {
  const name = `mltest_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${Date.now().toString(36)}${
    Math.random().toString(36).slice(2, 8)
  }`
  const admin = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => undefined })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
  } catch (cause) {
    throw new Error(`PostgreSQL is required for these tests and did not answer at ${adminUrl}: ${String(cause)}`)
  } finally {
    await admin.end({ timeout: 1 })
  }
  return {
    name,
    url: urlOfDatabase(name),
    drop: async () => {
      const dropper = postgres(adminUrl, { max: 1, connect_timeout: 5, onnotice: () => undefined })
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await dropper.end({ timeout: 1 })
      }
    }
  }
}
