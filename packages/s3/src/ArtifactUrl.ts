/**
 * `ML_ARTIFACT_URL=s3://bucket/prefix`: the bucket and key prefix of the artifact store, checked
 * before any request so a typo stops the server with a message instead of failing uploads later.
 */

export interface ArtifactLocation {
  readonly bucket: string
  /** "" for the bucket root; otherwise segments joined by "/", no leading or trailing slash. */
  readonly prefix: string
}

/** S3's bucket naming rules (the subset every S3-compatible service accepts). */
const bucketPattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
/** Prefix segments: characters S3 calls safe, no "." or ".." (which some services normalise away). */
const segmentPattern = /^[A-Za-z0-9!_.*'()-]+$/
export const maxPrefixLength = 512

/** The location, or a message saying what is wrong (for the configuration error). */
export const parse = (raw: string): ArtifactLocation | string => {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(raw)
  if (match === null) return `must look like s3://bucket/prefix, got ${JSON.stringify(raw)}`
  const bucket = match[1]!
  if (!bucketPattern.test(bucket) || bucket.includes("..")) {
    return `bucket must be 3 to 63 lowercase letters, digits, dots or hyphens, got ${JSON.stringify(bucket)}`
  }
  const prefix = (match[2] ?? "").replace(/\/+$/, "")
  if (prefix.length > maxPrefixLength) {
    return `prefix must be at most ${maxPrefixLength} characters, got ${prefix.length}`
  }
  const bad = prefix === ""
    ? undefined
    : prefix.split("/").find((s) => !segmentPattern.test(s) || s === "." || s === "..")
  if (bad !== undefined) {
    return `prefix segments must be letters, digits and !_.*'()- (not empty, "." or ".."), got ${JSON.stringify(bad)}`
  }
  return { bucket, prefix }
}
