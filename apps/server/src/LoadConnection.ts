/**
 * One keep-alive HTTP/1.1 connection for `ml-server loadtest`: it sends one prepared request at a
 * time and reads only what it needs to find the end of the answer (status line, Content-Length or
 * chunked framing, Connection: close). node:http's client cost about as much CPU per request as
 * the server under test (230-310 µs in the paced run, plus its garbage), so a loader sharing the
 * machine's cores with the server inflated the percentiles it reported; this costs a small
 * fraction of that. Anything it cannot frame counts as a failure and drops the connection.
 */
import * as net from "node:net"

/** Called once per request: the answer's status, or 0 when the connection failed or the answer could not be read. */
export type Done = (status: number) => void

const headEnd = Buffer.from("\r\n\r\n")
const lineEnd = Buffer.from("\r\n")
const empty = Buffer.alloc(0)
/** A head longer than this is not an answer we can read: the connection is dropped. */
const maxHeadBytes = 64 * 1024

type Reading =
  | { readonly kind: "head" }
  | { readonly kind: "body"; remaining: number }
  | { readonly kind: "chunkSize" }
  | { readonly kind: "chunkData"; remaining: number }
  | { readonly kind: "trailer" }
  | { readonly kind: "untilClose" }

/**
 * A request as bytes to write, from its parts; header values with CR or LF are refused, so a
 * token cannot add headers.
 */
export const requestText = (
  method: string,
  path: string,
  host: string,
  headers: Readonly<Record<string, string>>,
  body: string | undefined
): string => {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name} must not contain CR or LF`)
    head += `${name}: ${value}\r\n`
  }
  return body === undefined
    ? `${head}\r\n`
    : `${head}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

export class LoadConnection {
  private socket: net.Socket | undefined
  private buffered: Buffer = empty
  private reading: Reading = { kind: "head" }
  private status = 0
  private closeAfter = false
  private done: Done | undefined

  constructor(private readonly port: number, private readonly host: string) {}

  /** Writes `request` (one whole request, see requestText); `done` gets the status when the answer has been read. */
  send(request: string, done: Done): void {
    if (this.done !== undefined) throw new Error("LoadConnection sends one request at a time")
    this.done = done
    this.reading = { kind: "head" }
    this.socket ??= this.connect()
    this.socket.write(request)
  }

  /** Drops the connection; a request in flight fails. */
  destroy(): void {
    this.socket?.destroy()
    this.drop()
  }

  private connect(): net.Socket {
    const socket = net.connect({ port: this.port, host: this.host, noDelay: true })
    socket.on("data", (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
      this.read()
    })
    socket.on("end", () => {
      if (this.reading.kind === "untilClose") this.finish()
      socket.destroy()
    })
    socket.on("error", () => undefined) // "close" follows and fails the request in flight
    socket.on("close", () => {
      if (this.socket === socket) this.drop()
    })
    return socket
  }

  /** Forgets the socket; the next send opens a new one. */
  private drop(): void {
    this.socket = undefined
    this.buffered = empty
    const done = this.done
    this.done = undefined
    done?.(0)
  }

  private fail(): void {
    this.socket?.destroy()
    this.drop()
  }

  private finish(): void {
    const done = this.done!
    this.done = undefined
    if (this.closeAfter) {
      this.socket?.destroy()
      this.socket = undefined
      this.buffered = empty
    }
    done(this.status)
  }

  /** Advances through the answer as far as the buffered bytes go. */
  private read(): void {
    for (;;) {
      if (this.done === undefined) {
        // Bytes nobody asked for: the framing is lost.
        if (this.buffered.length > 0) this.fail()
        return
      }
      const reading = this.reading
      switch (reading.kind) {
        case "head": {
          const end = this.buffered.indexOf(headEnd)
          if (end < 0) {
            if (this.buffered.length > maxHeadBytes) this.fail()
            return
          }
          if (!this.readHead(this.buffered.toString("latin1", 0, end))) return this.fail()
          this.buffered = this.buffered.subarray(end + 4)
          break
        }
        case "body":
        case "chunkData": {
          const take = Math.min(reading.remaining, this.buffered.length)
          reading.remaining -= take
          this.buffered = this.buffered.subarray(take)
          if (reading.remaining > 0) return
          if (reading.kind === "body") this.finish()
          else this.reading = { kind: "chunkSize" }
          break
        }
        case "chunkSize":
        case "trailer": {
          const end = this.buffered.indexOf(lineEnd)
          if (end < 0) return
          const line = this.buffered.toString("latin1", 0, end)
          this.buffered = this.buffered.subarray(end + 2)
          if (reading.kind === "trailer") {
            if (line === "") this.finish()
            break
          }
          const size = Number.parseInt(line, 16)
          if (!Number.isInteger(size) || size < 0) return this.fail()
          // The chunk and its CRLF; size 0 ends the body, trailers (if any) up to an empty line.
          this.reading = size === 0 ? { kind: "trailer" } : { kind: "chunkData", remaining: size + 2 }
          break
        }
        case "untilClose":
          this.buffered = empty
          return
      }
    }
  }

  /** Status and framing from the head; false when it is not an HTTP/1.x answer. */
  private readHead(head: string): boolean {
    if (!head.startsWith("HTTP/1.")) return false
    this.status = Number(head.slice(9, 12))
    if (!Number.isInteger(this.status) || this.status < 200) return false // no interim answers are asked for
    // One lowercase copy searched for the three headers that frame the answer (cheaper than splitting lines).
    const lower = head.toLowerCase()
    const length = headerValue(lower, "content-length")
    const connection = headerValue(lower, "connection")
    this.closeAfter = connection === undefined ? head.startsWith("HTTP/1.0") : connection === "close"
    if (headerValue(lower, "transfer-encoding")?.endsWith("chunked")) this.reading = { kind: "chunkSize" }
    else if (this.status === 204 || this.status === 304) this.reading = { kind: "body", remaining: 0 }
    else if (length !== undefined) {
      const bytes = Number(length)
      if (!Number.isSafeInteger(bytes) || bytes < 0 || length === "") return false
      this.reading = { kind: "body", remaining: bytes }
    } else {
      this.reading = { kind: "untilClose" }
      this.closeAfter = true
    }
    return true
  }
}

/** The trimmed value of header `name` in a lowercased head, or undefined. */
const headerValue = (lowerHead: string, name: string): string | undefined => {
  const at = lowerHead.indexOf(`\r\n${name}:`)
  if (at < 0) return undefined
  const start = at + name.length + 3
  const end = lowerHead.indexOf("\r\n", start)
  return lowerHead.slice(start, end < 0 ? undefined : end).trim()
}
