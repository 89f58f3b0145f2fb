// The load test's HTTP/1.1 connection against real sockets: a node:http server (what it reads
// must agree with what node:http sent) and a raw TCP server writing framings byte by byte, so
// answers split anywhere, chunked bodies, Connection: close and broken answers are all covered.
import * as http from "node:http"
import * as net from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { LoadConnection, requestText } from "../src/LoadConnection.js"

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

const listen = async (server: net.Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  closers.push(() => new Promise((resolve) => server.close(() => resolve())))
  return (server.address() as net.AddressInfo).port
}

/** Sends `request` and resolves with the status `done` got. */
const send = (connection: LoadConnection, request: string) =>
  new Promise<number>((resolve) => connection.send(request, resolve))

/** A TCP server answering the i-th request on a connection with answers[i % length], written in `pieces`. */
const rawServer = async (answers: ReadonlyArray<string>, pieces = 1, onConnection?: () => void) => {
  const server = net.createServer((socket) => {
    onConnection?.()
    let seen = ""
    let answered = 0
    let writing = Promise.resolve()
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1")
      while (seen.includes("\r\n\r\n")) {
        seen = seen.slice(seen.indexOf("\r\n\r\n") + 4)
        const answer = answers[answered++ % answers.length]!
        writing = writing.then(async () => {
          const size = Math.ceil(answer.length / pieces)
          for (let at = 0; at < answer.length; at += size) {
            socket.write(answer.slice(at, at + size))
            await new Promise((resolve) => setTimeout(resolve, 1))
          }
        })
      }
    })
    socket.on("error", () => undefined)
  })
  return listen(server)
}

const get = (path = "/") => requestText("GET", path, "127.0.0.1", {}, undefined)

describe("LoadConnection", () => {
  it("reads node:http's answers (length, chunked, empty) and sends bodies node:http parses", async () => {
    const received: Array<string> = []
    const server = http.createServer((req, res) => {
      let body = ""
      req.on("data", (c) => (body += c))
      req.on("end", () => {
        received.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""} ${body}`)
        if (req.url === "/chunked") {
          res.write("a".repeat(10_000))
          setImmediate(() => res.end("b".repeat(5)))
        } else if (req.url === "/empty") {
          res.writeHead(204).end()
        } else if (req.url === "/missing") {
          res.writeHead(404, { "content-type": "application/json" }).end("{\"no\":1}")
        } else {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ echo: body }))
        }
      })
    })
    const port = await listen(server)
    const connection = new LoadConnection(port, "127.0.0.1")
    closers.unshift(async () => connection.destroy())
    const headers = { authorization: "Bearer t0k" }
    expect(await send(connection, requestText("POST", "/a", "x", headers, "{\"é\":1}"))).toBe(200)
    expect(await send(connection, requestText("GET", "/chunked", "x", headers, undefined))).toBe(200)
    expect(await send(connection, requestText("GET", "/empty", "x", headers, undefined))).toBe(204)
    expect(await send(connection, requestText("GET", "/missing", "x", headers, undefined))).toBe(404)
    expect(await send(connection, requestText("POST", "/b", "x", headers, "[]"))).toBe(200)
    expect(received).toEqual([
      "POST /a Bearer t0k {\"é\":1}",
      "GET /chunked Bearer t0k ",
      "GET /empty Bearer t0k ",
      "GET /missing Bearer t0k ",
      "POST /b Bearer t0k []"
    ])
  })

  it.each([1, 3, 200])("reads answers split into %i pieces on one kept-alive connection", async (pieces) => {
    let connections = 0
    const port = await rawServer(
      [
        "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n" +
        "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n" +
        "Trailer: t\r\n\r\n",
        "HTTP/1.0 202 Accepted\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n"
      ],
      pieces,
      () => connections++
    )
    const connection = new LoadConnection(port, "127.0.0.1")
    closers.unshift(async () => connection.destroy())
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push(await send(connection, get()))
    expect(statuses).toEqual([201, 200, 202, 201, 200, 202])
    expect(connections).toBe(1)
  })

  it("opens a new connection after Connection: close and after an answer framed by closing", async () => {
    let connections = 0
    const port = await rawServer(
      ["HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"],
      1,
      () => connections++
    )
    const connection = new LoadConnection(port, "127.0.0.1")
    closers.unshift(async () => connection.destroy())
    for (let i = 0; i < 3; i++) expect(await send(connection, get())).toBe(200)
    expect(connections).toBe(3)

    const untilClose = net.createServer((socket) => {
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\n\r\nthe body runs to the close"))
    })
    const other = new LoadConnection(await listen(untilClose), "127.0.0.1")
    expect(await send(other, get())).toBe(200)
    expect(await send(other, get())).toBe(200)
  })

  it.each([
    ["not HTTP", "SSH-2.0-OpenSSH\r\n\r\n"],
    ["a bad length", "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n"],
    ["a bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
    ["an interim answer", "HTTP/1.1 100 Continue\r\n\r\n"],
    ["a head without end", "HTTP/1.1 200 OK\r\nX: " + "y".repeat(70_000)]
  ])("fails the request (status 0) on %s and recovers on a new connection", async (_, answer) => {
    let broken = true
    const server = net.createServer((socket) => {
      const bad = broken
      broken = false
      socket.on(
        "data",
        () => socket.write(bad ? answer : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", () => undefined)
      )
      socket.on("error", () => undefined)
    })
    const connection = new LoadConnection(await listen(server), "127.0.0.1")
    closers.unshift(async () => connection.destroy())
    expect(await send(connection, get())).toBe(0)
    expect(await send(connection, get())).toBe(200)
  })

  it("fails the request when the server drops the connection or is not there", async () => {
    const server = net.createServer((socket) => socket.once("data", () => socket.destroy()))
    const connection = new LoadConnection(await listen(server), "127.0.0.1")
    expect(await send(connection, get())).toBe(0)
    const closed = net.createServer()
    const port = await listen(closed)
    await closers.pop()!()
    expect(await send(new LoadConnection(port, "127.0.0.1"), get())).toBe(0)
  })

  it("refuses header names and values with CR or LF", () => {
    expect(() => requestText("GET", "/", "h", { authorization: "Bearer a\r\nx-admin: 1" }, undefined)).toThrow(
      "header authorization must not contain CR or LF"
    )
  })
})
