/**
 * Where a server remembers which storage instance its data directory used (the Redis instance
 * marker, the PostgreSQL database's id), so a store that was emptied or swapped while the server
 * was down is refused at the next start instead of served as if nothing had been written. The
 * adapters that check instances take this as a port; the server passes the file-backed one from
 * the fs adapter (`InstanceFile`), tests may pass any other.
 */

/** Values remembered by name, e.g. one Redis marker per key prefix. */
export interface RememberedInstances {
  /** Where they are kept, for messages that tell the operator what to restore or delete. */
  readonly location: string
  /** The value remembered under `name`, or undefined when there is none; rejects when unreadable. */
  readonly read: (name: string) => Promise<unknown>
  /** Remembers `value` under `name` durably before resolving, keeping the other names. */
  readonly write: (name: string, value: unknown) => Promise<void>
}
