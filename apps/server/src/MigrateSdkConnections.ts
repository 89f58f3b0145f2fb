/**
 * `ml-server migrate` for SDK connections: each is copied with its client key and encryption key,
 * so GrowthBook SDKs keep reading the payload from the target with the keys they were given, and
 * the audit trail is replayed in order: a connection deleted on the source is created and deleted
 * again under its own id, name, actors and times (its client key was dropped with it, so its
 * short-lived copy gets one nobody holds), which leaves the target's trail equal to the source's.
 */
import { SdkConnections } from "@org/ml-core"
import { randomBytes } from "node:crypto"
import { run, same } from "./MigrateRecords.js"

type Store = SdkConnections.SdkConnectionStoreShape

/** "N SDK connections" when the store holds any (the target must be empty; --models-only names them). */
export const sdkConnectionsHeld = async (store: Store): Promise<ReadonlyArray<string>> => {
  const count = (await run(store.list())).length
  return count > 0 ? [`${count} SDK connections`] : []
}

/** Copies every connection and its trail; answers how many connections there are. */
export const copySdkConnections = async (source: Store, target: Store): Promise<number> => {
  const connections = await run(source.list())
  const live = new Map(connections.map((c) => [c.id, c]))
  const created = new Set<string>()
  for (const event of await run(source.events())) {
    if (event.action === "deleted") {
      await run(target.remove(event.connectionId, event.actor, event.at))
      continue
    }
    const connection: SdkConnections.SdkConnection = live.get(event.connectionId) ?? {
      id: event.connectionId,
      name: event.connectionName,
      clientKey: `sdk-deleted-${randomBytes(18).toString("base64url")}`,
      createdAt: event.at,
      createdBy: event.actor
    }
    await run(target.create(connection))
    created.add(connection.id)
  }
  // Connections older than the kept trail (its newest MAX_SDK_CONNECTION_EVENTS events).
  for (const connection of connections) {
    if (!created.has(connection.id)) await run(target.create(connection))
  }
  return connections.length
}

/** Throws naming the first difference between the stores' connections or trails. */
export const verifySdkConnections = async (source: Store, target: Store): Promise<void> => {
  const byId = (list: ReadonlyArray<SdkConnections.SdkConnection>) => [...list].sort((a, b) => a.id.localeCompare(b.id))
  const [from, to] = [byId(await run(source.list())), byId(await run(target.list()))]
  for (const connection of from) {
    const twin = to.find((c) => c.id === connection.id)
    if (!same(twin, connection)) throw new Error(`SDK connection ${connection.id} differs in the target`)
  }
  if (to.length !== from.length) throw new Error(`target has ${to.length} SDK connections, source ${from.length}`)
  const events = await run(source.events())
  // A trail longer than the kept window cannot be reproduced event for event (see copySdkConnections).
  if (events.length < SdkConnections.MAX_SDK_CONNECTION_EVENTS && !same(await run(target.events()), events)) {
    throw new Error("the SDK connections' audit trail differs in the target")
  }
}
