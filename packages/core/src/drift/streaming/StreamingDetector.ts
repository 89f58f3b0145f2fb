/**
 * Streaming change detectors: they read a metric stream one value at a time (a model's per-sample
 * error, a check's score) and say when its mean has changed, without a fixed window or a baseline.
 * Each follows River's definition and defaults (online-ml/river, `river.drift`), including its
 * habit of starting afresh on the value after a detection, so our detections land on the same
 * indices as River's published examples.
 */

export interface StreamingDetector {
  /** Reads the next value; true when a change is detected at this value. */
  readonly update: (value: number) => boolean
  /** Whether the last value read signalled a change. */
  readonly driftDetected: () => boolean
}

/** The indices of `stream` at which a fresh `detector` signals a change. */
export const detectionsIn = (detector: StreamingDetector, stream: ArrayLike<number>): Array<number> => {
  const found: Array<number> = []
  for (let i = 0; i < stream.length; i++) if (detector.update(stream[i]!)) found.push(i)
  return found
}
