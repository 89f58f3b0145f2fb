/**
 * A pipeline's live learner state as the pipeline stores keep it: format-2 bytes (sparse and
 * binary, see LearnerStateBinary.ts), so an accepted update of a hashed learner writes its touched
 * slots rather than megabytes of zeros. Stores written by earlier releases hold format-1 JSON;
 * both read back as the same LearnerState, so the PipelineStore port is unchanged.
 */
import { storedRecord, undecodableRecord } from "../shared/Validation.js"
import { loadLearner } from "./learners/Learner.js"
import { LearnerState } from "./learners/LearnerState.js"
import { encodeLearnerState, isBinaryLearnerState } from "./learners/LearnerStateBinary.js"

const jsonStates = storedRecord(LearnerState)

/** The bytes a pipeline store writes for a live state (format 2). */
export const encodeLiveState = (state: LearnerState): Uint8Array<ArrayBuffer> => encodeLearnerState(state)

/**
 * The live state in stored bytes of either format: format 2, or the format-1 JSON text earlier
 * releases wrote. Throws a StorageError naming `where` (the key, row or file line) when the bytes
 * are damaged or not a learner state.
 */
export const decodeLiveState = (bytes: Uint8Array, where: string): LearnerState => {
  if (!isBinaryLearnerState(bytes)) return jsonStates.fromJson(new TextDecoder().decode(bytes), where)
  try {
    return loadLearner(bytes).state()
  } catch (cause) {
    throw undecodableRecord(where, cause instanceof Error ? cause.message : String(cause), cause)
  }
}
