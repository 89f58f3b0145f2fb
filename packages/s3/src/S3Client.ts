/**
 * A small S3 client over fetch: the nine operations the artifact store needs, signed with AWS
 * Signature Version 4 (header form). Payloads are signed with their SHA-256, so the service
 * refuses a part or object whose bytes changed on the way. We keep our own instead of
 * @aws-sdk/client-s3 because the store needs only these calls and the SDK brings about a hundred
 * packages (and its own retry, stream and checksum layers) to the server; the signing is tested
 * against s3rver, which checks signatures, and follows the AWS SigV4 reference.
 */
import { createHash, createHmac } from "node:crypto"

export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

export interface S3ClientOptions {
  /** Base URL of the service, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000. */
  readonly endpoint: string
  readonly region: string
  readonly bucket: string
  /** `endpoint/bucket/key` (MinIO, s3rver, most self-hosted) instead of `bucket.endpoint/key`. */
  readonly forcePathStyle: boolean
  readonly credentials: S3Credentials
  /** How long one request may wait for the response headers, in ms. */
  readonly requestTimeoutMs?: number | undefined
}

/** A failed S3 request: the HTTP status and the service's error code (e.g. NoSuchKey). */
export class S3RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly code: string,
    detail: string
  ) {
    super(`S3 ${operation} failed: ${status} ${code}${detail === "" ? "" : `: ${detail}`}`)
    this.name = "S3RequestError"
  }
}

export interface ListedObject {
  readonly key: string
  readonly lastModified: Date
  readonly size: number
}

export interface CompletedPart {
  readonly partNumber: number
  readonly etag: string
}

const emptySha256 = createHash("sha256").digest("hex")
export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, `/` kept in paths. */
const encodeStrict = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
const encodePath = (key: string): string => key.split("/").map(encodeStrict).join("/")

const xmlEntities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" }
const unescapeXml = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => xmlEntities[name]!)
const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => `&${Object.keys(xmlEntities).find((k) => xmlEntities[k] === c)};`)

/** The text of every `<tag>` element (S3's responses are flat enough for this). */
const xmlValues = (xml: string, tag: string): Array<string> =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => unescapeXml(m[1]!))
const xmlValue = (xml: string, tag: string): string | undefined => xmlValues(xml, tag)[0]

/** `key=value` pairs encoded and sorted by key, as SigV4 wants them (and as sent). */
export const canonicalQuery = (query: Record<string, string>): string =>
  Object.entries(query)
    .map(([k, v]) => [encodeStrict(k), encodeStrict(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&")

const hmac = (key: Uint8Array | string, data: string) => createHmac("sha256", key).update(data).digest()

export interface SigningInput {
  readonly method: string
  readonly host: string
  /** The encoded path as sent. */
  readonly path: string
  /** The canonical (encoded, sorted) query string as sent. */
  readonly query: string
  readonly headers: Record<string, string>
  readonly payloadHash: string
  readonly region: string
  readonly credentials: S3Credentials
  readonly at: Date
}

/**
 * The request's headers with `x-amz-date`, `x-amz-content-sha256`, the session token if any, and
 * `authorization` (AWS Signature Version 4, service s3); every header given is signed.
 */
export const signRequest = (input: SigningInput): Record<string, string> => {
  const amzDate = input.at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "")
  const date = amzDate.slice(0, 8)
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(input.headers).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    host: input.host,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": input.payloadHash
  }
  if (input.credentials.sessionToken !== undefined) headers["x-amz-security-token"] = input.credentials.sessionToken
  const names = Object.keys(headers).sort()
  const signedHeaders = names.join(";")
  const canonicalRequest = [
    input.method,
    input.path,
    input.query,
    names.map((name) => `${name}:${headers[name]}\n`).join(""),
    signedHeaders,
    input.payloadHash
  ].join("\n")
  const scope = `${date}/${input.region}/s3/aws4_request`
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(Buffer.from(canonicalRequest))].join("\n")
  const key = hmac(
    hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, date), input.region), "s3"),
    "aws4_request"
  )
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex")
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}

/**
 * The body as a one-chunk stream with its length given: fetch copies a Uint8Array body before
 * sending, and those 8 MiB copies pile up faster than the collector frees them (RSS grew with the
 * artifact's size); a stream is written to the socket as it is.
 */
const bodyInit = (body: Uint8Array) => ({
  body: new ReadableStream<Uint8Array>({
    start(controller) {
      if (body.byteLength > 0) controller.enqueue(body)
      controller.close()
    }
  }),
  duplex: "half" as const
})

interface Request {
  readonly operation: string
  readonly method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE"
  /** Undefined: the bucket itself. */
  readonly key?: string | undefined
  readonly query?: Record<string, string> | undefined
  readonly headers?: Record<string, string> | undefined
  readonly body?: Uint8Array | undefined
  /** SHA-256 of `body` when the caller computed it already. */
  readonly bodySha256?: string | undefined
  /** Statuses answered without throwing (e.g. 404 for a missing object). */
  readonly accept?: ReadonlyArray<number> | undefined
  readonly signal?: AbortSignal | undefined
}

export const make = (options: S3ClientOptions) => {
  const base = new URL(options.endpoint)
  const basePath = base.pathname.replace(/\/+$/, "")
  const host = options.forcePathStyle ? base.host : `${options.bucket}.${base.host}`
  const origin = `${base.protocol}//${host}`
  const keyPath = (key: string | undefined) =>
    options.forcePathStyle
      ? `${basePath}/${encodeStrict(options.bucket)}${key === undefined ? "" : `/${encodePath(key)}`}`
      : `${basePath}/${key === undefined ? "" : encodePath(key)}`

  const send = async (request: Request): Promise<Response> => {
    const path = keyPath(request.key) || "/"
    const query = canonicalQuery(request.query ?? {})
    const payloadHash = request.body === undefined
      ? emptySha256
      : request.bodySha256 ?? sha256Hex(request.body)
    const headers = signRequest({
      method: request.method,
      host,
      path,
      query,
      headers: request.headers ?? {},
      payloadHash,
      region: options.region,
      credentials: options.credentials,
      at: new Date()
    })
    delete headers.host // fetch sets it from the URL (the same value)

    // The timeout bounds the wait for the response headers only: a body (a large download being
    // served) may take as long as it takes, so the timer is cleared once the headers are in.
    const timeoutMs = options.requestTimeoutMs ?? 60_000
    const deadline = new AbortController()
    const timer = setTimeout(
      () => deadline.abort(new Error(`S3 ${request.operation}: no response within ${timeoutMs} ms`)),
      timeoutMs
    )
    let response: Response
    try {
      response = await fetch(`${origin}${path}${query === "" ? "" : `?${query}`}`, {
        method: request.method,
        headers: request.body === undefined
          ? headers
          : { ...headers, "content-length": String(request.body.byteLength) },
        ...(request.body === undefined ? {} : bodyInit(request.body)),
        signal: request.signal === undefined ? deadline.signal : AbortSignal.any([request.signal, deadline.signal])
      })
    } finally {
      clearTimeout(timer)
    }
    if (response.ok || request.accept?.includes(response.status)) return response
    const text = request.method === "HEAD" ? "" : await response.text().catch(() => "")
    throw new S3RequestError(
      request.operation,
      response.status,
      xmlValue(text, "Code") ?? response.statusText,
      xmlValue(text, "Message") ?? ""
    )
  }

  /** Copy and complete answer 200 and may still fail: the error is in the body. */
  const okBody = async (operation: string, response: Response): Promise<string> => {
    const text = await response.text()
    if (/<Error>/.test(text)) {
      throw new S3RequestError(
        operation,
        response.status,
        xmlValue(text, "Code") ?? "",
        xmlValue(text, "Message") ?? ""
      )
    }
    return text
  }

  const etagOf = (operation: string, response: Response): string => {
    const etag = response.headers.get("etag")
    if (etag === null) throw new S3RequestError(operation, response.status, "MissingETag", "no ETag in the response")
    return etag
  }

  return {
    bucket: options.bucket,

    headBucket: async (signal?: AbortSignal): Promise<void> => {
      const response = await send({ operation: "HeadBucket", method: "HEAD", signal })
      await response.body?.cancel()
    },

    /** One request: the object appears whole or not at all; S3 checks the bytes against `sha256`. */
    putObject: async (key: string, body: Uint8Array, sha256: string, signal?: AbortSignal): Promise<void> => {
      const response = await send({ operation: "PutObject", method: "PUT", key, body, bodySha256: sha256, signal })
      await response.body?.cancel()
    },

    createMultipartUpload: async (key: string, signal?: AbortSignal): Promise<string> => {
      const response = await send({
        operation: "CreateMultipartUpload",
        method: "POST",
        key,
        query: { uploads: "" },
        signal
      })
      const uploadId = xmlValue(await okBody("CreateMultipartUpload", response), "UploadId")
      if (uploadId === undefined) throw new S3RequestError("CreateMultipartUpload", 200, "MissingUploadId", "")
      return uploadId
    },

    uploadPart: async (
      key: string,
      uploadId: string,
      partNumber: number,
      body: Uint8Array,
      signal?: AbortSignal
    ): Promise<CompletedPart> => {
      const response = await send({
        operation: "UploadPart",
        method: "PUT",
        key,
        query: { partNumber: String(partNumber), uploadId },
        body,
        signal
      })
      await response.body?.cancel()
      return { partNumber, etag: etagOf("UploadPart", response) }
    },

    /** Server-side copy of `range` (inclusive byte offsets) of `sourceKey` as one part. */
    uploadPartCopy: async (
      key: string,
      uploadId: string,
      partNumber: number,
      sourceKey: string,
      range: readonly [number, number],
      signal?: AbortSignal
    ): Promise<CompletedPart> => {
      const response = await send({
        operation: "UploadPartCopy",
        method: "PUT",
        key,
        query: { partNumber: String(partNumber), uploadId },
        headers: {
          "x-amz-copy-source": `/${encodeStrict(options.bucket)}/${encodePath(sourceKey)}`,
          "x-amz-copy-source-range": `bytes=${range[0]}-${range[1]}`
        },
        signal
      })
      const etag = xmlValue(await okBody("UploadPartCopy", response), "ETag")
      if (etag === undefined) throw new S3RequestError("UploadPartCopy", 200, "MissingETag", "")
      return { partNumber, etag }
    },

    completeMultipartUpload: async (
      key: string,
      uploadId: string,
      parts: ReadonlyArray<CompletedPart>,
      signal?: AbortSignal
    ): Promise<void> => {
      const xml = `<CompleteMultipartUpload>${
        parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${escapeXml(p.etag)}</ETag></Part>`)
          .join("")
      }</CompleteMultipartUpload>`
      const response = await send({
        operation: "CompleteMultipartUpload",
        method: "POST",
        key,
        query: { uploadId },
        headers: { "content-type": "application/xml" },
        body: Buffer.from(xml),
        signal
      })
      await okBody("CompleteMultipartUpload", response)
    },

    abortMultipartUpload: async (key: string, uploadId: string): Promise<void> => {
      const response = await send({ operation: "AbortMultipartUpload", method: "DELETE", key, query: { uploadId } })
      await response.body?.cancel()
    },

    copyObject: async (sourceKey: string, key: string, signal?: AbortSignal): Promise<void> => {
      const response = await send({
        operation: "CopyObject",
        method: "PUT",
        key,
        headers: { "x-amz-copy-source": `/${encodeStrict(options.bucket)}/${encodePath(sourceKey)}` },
        signal
      })
      await okBody("CopyObject", response)
    },

    /** The object's response (body unread), or undefined when there is no such key. */
    getObject: async (
      key: string,
      options: { readonly ifMatch?: string | undefined; readonly signal?: AbortSignal | undefined } = {}
    ): Promise<Response | undefined> => {
      const response = await send({
        operation: "GetObject",
        method: "GET",
        key,
        headers: options.ifMatch === undefined ? undefined : { "if-match": options.ifMatch },
        accept: [404],
        signal: options.signal
      })
      if (response.status !== 404) return response
      await response.body?.cancel()
      return undefined
    },

    headObject: async (key: string, signal?: AbortSignal) => {
      const response = await send({ operation: "HeadObject", method: "HEAD", key, accept: [404], signal })
      await response.body?.cancel()
      if (response.status === 404) return undefined
      return { size: Number(response.headers.get("content-length")), etag: response.headers.get("etag") }
    },

    deleteObject: async (key: string): Promise<void> => {
      const response = await send({ operation: "DeleteObject", method: "DELETE", key, accept: [404] })
      await response.body?.cancel()
    },

    /** Every object under `prefix` (ListObjectsV2, page by page). */
    listObjects: async (prefix: string): Promise<Array<ListedObject>> => {
      const listed: Array<ListedObject> = []
      let token: string | undefined
      do {
        const response = await send({
          operation: "ListObjectsV2",
          method: "GET",
          query: { "list-type": "2", prefix, ...(token === undefined ? {} : { "continuation-token": token }) }
        })
        const xml = await okBody("ListObjectsV2", response)
        for (const entry of xmlValues(xml, "Contents")) {
          listed.push({
            key: xmlValue(entry, "Key")!,
            lastModified: new Date(xmlValue(entry, "LastModified") ?? 0),
            size: Number(xmlValue(entry, "Size") ?? 0)
          })
        }
        token = xmlValue(xml, "IsTruncated") === "true" ? xmlValue(xml, "NextContinuationToken") : undefined
      } while (token !== undefined)
      return listed
    }
  }
}

export type S3Client = ReturnType<typeof make>
