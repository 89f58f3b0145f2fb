/**
 * The adapter of the WebhookTargets port (the server and the library entry), against SSRF: a webhook may not point at
 * loopback, private (RFC 1918, fc00::/7), link-local, CGNAT, multicast, unspecified or cloud
 * metadata addresses, written in any notation (the WHATWG URL parser turns `2130706433`,
 * `0x7f.1`, `127.1` and `0177.0.0.1` into 127.0.0.1; IPv4 inside IPv6 is unwrapped) or reached
 * through a name (every address it resolves to is checked). `guardedFetch` delivers over
 * node:http(s) with a lookup that applies the same check to the very addresses it connects to,
 * so nothing can re-resolve between the check and the connection.
 */
import { WebhookTargets as Targets } from "@org/ml-core"
import { Effect, Layer } from "effect"
import { lookup as dnsLookup } from "node:dns/promises"
import * as http from "node:http"
import * as https from "node:https"
import { BlockList, isIP, type LookupFunction } from "node:net"

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}
/** Every address a host name resolves to (injectable: real DNS cannot be steered in tests). */
export type Resolve = (hostname: string) => Promise<ReadonlyArray<ResolvedAddress>>

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

const forbidden = new BlockList()
for (
  const [network, prefix] of [
    ["0.0.0.0", 8], // "this network", 0.0.0.0 reaches the local host
    ["10.0.0.0", 8],
    ["100.64.0.0", 10], // CGNAT
    ["127.0.0.0", 8],
    ["169.254.0.0", 16], // link-local, with the cloud metadata service at 169.254.169.254
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["224.0.0.0", 4], // multicast
    ["240.0.0.0", 4] // reserved and broadcast
  ] as const
) forbidden.addSubnet(network, prefix, "ipv4")
for (
  const [network, prefix] of [
    ["::", 96], // unspecified, loopback and IPv4-compatible addresses
    ["64:ff9b::", 96], // NAT64 of any IPv4 address
    ["fc00::", 7], // unique local, with the AWS metadata service at fd00:ec2::254
    ["fe80::", 10],
    ["ff00::", 8]
  ] as const
) forbidden.addSubnet(network, prefix, "ipv6")

/** Host names of metadata services that do not need to resolve to be refused. */
const metadataNames = new Set(["metadata.google.internal", "metadata", "instance-data"])

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:7f00:1` is 127.0.0.1), if it is
 * one. BlockList applies IPv4 rules to mapped addresses too; unwrapping does not rely on that.
 */
const unwrapMapped = (address: string): string | null => {
  const match = /^::ffff:(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(address)
  if (!match) return null
  if (match[3] !== undefined) return match[3]
  const high = parseInt(match[1]!, 16)
  const low = parseInt(match[2]!, 16)
  return [high >> 8, high & 255, low >> 8, low & 255].join(".")
}

/** Why an IP address may not receive webhooks, or null. */
export const addressRefusal = (address: string): string | null => {
  const mapped = unwrapMapped(address)
  const ip = mapped ?? address
  return forbidden.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6")
    ? `must not point at a loopback, private, link-local, multicast or metadata address (${address})`
    : null
}

/** The host of a parsed URL as an IP address when it is written as one (brackets of IPv6 removed). */
const literalAddress = (url: URL): string | null => {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname
  return isIP(host) !== 0 ? host : null
}

const hostRefusal = async (url: URL, resolve: Resolve): Promise<string | null> => {
  const literal = literalAddress(url)
  if (literal !== null) return addressRefusal(literal)
  const name = url.hostname.toLowerCase().replace(/\.$/, "")
  if (metadataNames.has(name)) return `must not point at a cloud metadata service (${name})`
  let addresses: ReadonlyArray<ResolvedAddress>
  try {
    addresses = await resolve(name)
  } catch {
    return `host ${name} does not resolve`
  }
  if (addresses.length === 0) return `host ${name} does not resolve`
  for (const { address } of addresses) {
    const refusal = addressRefusal(address)
    if (refusal !== null) return `${refusal.replace(/ \(.*\)$/, "")} (${name} resolves to ${address})`
  }
  return null
}

/** The port's rules: the URL's own (scheme, no credentials), then where its host points. */
export const make = (resolve: Resolve = systemResolve): Targets.WebhookTargetsShape => ({
  refusal: (url) =>
    Effect.promise(async () => {
      const urlProblem = Targets.urlRefusal(url)
      return urlProblem !== null ? urlProblem : await hostRefusal(new URL(url), resolve)
    })
})

/** A lookup for node:http that connects only to addresses the check lets through. */
const guardedLookup = (resolve: Resolve): LookupFunction => (hostname, options, callback) => {
  resolve(hostname).then((addresses) => {
    const refused = addresses.map((a) => addressRefusal(a.address)).find((r) => r !== null)
    if (refused !== undefined) throw new Error(`target refused: ${refused.replace(/ \(.*\)$/, "")}`)
    if (addresses.length === 0) throw new Error(`host ${hostname} does not resolve`)
    if (options.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })))
    else callback(null, addresses[0]!.address, addresses[0]!.family)
  }).catch((error: unknown) => callback(error as NodeJS.ErrnoException, ""))
}

/** How long one delivery may take, connection to last byte. */
const deliveryTimeoutMillis = 10_000

/**
 * A fetch for webhook deliveries that checks the addresses it connects to (see guardedLookup;
 * a literal IP is never looked up, so it is checked first). The response body is read and
 * dropped: only the status is reported.
 */
export const guardedFetch = (resolve: Resolve = systemResolve): typeof fetch =>
  ((input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const literal = literalAddress(url)
    const refusal = literal === null ? null : addressRefusal(literal)
    if (refusal !== null) return Promise.reject(new Error(`target refused: ${refusal}`))
    return new Promise<Response>((resolveResponse, reject) => {
      const client = url.protocol === "https:" ? https : http
      const request = client.request(url, {
        method: init.method ?? "GET",
        headers: Object.fromEntries(new Headers(init.headers).entries()),
        lookup: guardedLookup(resolve),
        timeout: deliveryTimeoutMillis
      }, (response) => {
        response.resume()
        response.on("end", () => resolveResponse(new Response(null, { status: response.statusCode ?? 502 })))
        response.on("error", reject)
      })
      request.on("timeout", () => request.destroy(new Error("timed out")))
      request.on("error", reject)
      request.end(typeof init.body === "string" ? init.body : undefined)
    })
  }) as typeof fetch

/** The port's layer: all rules, or (ML_WEBHOOK_ALLOW_PRIVATE) only the URL's own. */
export const layer = (allowPrivate: boolean, resolve: Resolve = systemResolve): Layer.Layer<Targets.WebhookTargets> =>
  allowPrivate
    ? Targets.layerUrlOnly
    : Layer.succeed(Targets.WebhookTargets, Targets.WebhookTargets.of(make(resolve)))
