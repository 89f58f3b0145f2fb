import { describe, expect, it } from "vitest"
import { ArtifactUrl } from "../src/index.js"

describe("ArtifactUrl.parse", () => {
  it("reads bucket and prefix, dropping trailing slashes", () => {
    expect(ArtifactUrl.parse("s3://ml-artifacts")).toEqual({ bucket: "ml-artifacts", prefix: "" })
    expect(ArtifactUrl.parse("s3://ml-artifacts/")).toEqual({ bucket: "ml-artifacts", prefix: "" })
    expect(ArtifactUrl.parse("s3://ml-artifacts/prod/eu/")).toEqual({ bucket: "ml-artifacts", prefix: "prod/eu" })
  })

  it("names what is wrong", () => {
    expect(ArtifactUrl.parse("https://bucket/x")).toMatch(/must look like s3:\/\/bucket\/prefix/)
    expect(ArtifactUrl.parse("s3://Bucket_1/x")).toMatch(/bucket must be 3 to 63 lowercase/)
    expect(ArtifactUrl.parse("s3://ab")).toMatch(/bucket must be/)
    expect(ArtifactUrl.parse("s3://bucket/a//b")).toMatch(/prefix segments/)
    expect(ArtifactUrl.parse("s3://bucket/a/../b")).toMatch(/prefix segments.*"\.\."/)
    expect(ArtifactUrl.parse(`s3://bucket/${"a".repeat(513)}`)).toMatch(/at most 512 characters, got 513/)
  })
})
