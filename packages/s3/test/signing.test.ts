// s3rver does not check Signature Version 4, so the signing is checked against the worked
// examples in AWS's S3 documentation ("Examples: Signature Calculations", header-based auth).
import { describe, expect, it } from "vitest"
import { S3Client } from "../src/index.js"

const example = {
  host: "examplebucket.s3.amazonaws.com",
  region: "us-east-1",
  credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
  at: new Date("2013-05-24T00:00:00Z")
}
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
const signatureOf = (headers: Record<string, string>) => /Signature=([0-9a-f]{64})$/.exec(headers.authorization!)?.[1]

describe("SigV4 signing (AWS's worked examples)", () => {
  it("GET Object with a Range header", () => {
    const headers = S3Client.signRequest({
      ...example,
      method: "GET",
      path: "/test.txt",
      query: "",
      headers: { Range: "bytes=0-9" },
      payloadHash: emptyHash
    })
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
  })

  it("PUT Object with a signed payload and an encoded key", () => {
    const body = new TextEncoder().encode("Welcome to Amazon S3.")
    const headers = S3Client.signRequest({
      ...example,
      method: "PUT",
      path: "/test%24file.text",
      query: "",
      headers: { Date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
      payloadHash: S3Client.sha256Hex(body)
    })
    expect(headers["x-amz-content-sha256"]).toBe("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    expect(signatureOf(headers)).toBe("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
  })

  it("GET Bucket lifecycle (a sub-resource with an empty value)", () => {
    const headers = S3Client.signRequest({
      ...example,
      method: "GET",
      path: "/",
      query: S3Client.canonicalQuery({ lifecycle: "" }),
      headers: {},
      payloadHash: emptyHash
    })
    expect(signatureOf(headers)).toBe("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
  })

  it("GET Bucket (list objects) with sorted query parameters", () => {
    const headers = S3Client.signRequest({
      ...example,
      method: "GET",
      path: "/",
      query: S3Client.canonicalQuery({ prefix: "J", "max-keys": "2" }),
      headers: {},
      payloadHash: emptyHash
    })
    expect(signatureOf(headers)).toBe("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
  })
})
