/**
 * MLflow's model format (a directory with an `MLmodel` YAML file naming its flavors, signature and
 * metadata, beside the model's files) read into a registry version and written back. The
 * signature's MLflow "colspec" columns (JSON strings under `signature.inputs` / `outputs`) map to
 * the registry's types; the MLflow type of each column is kept on export when the registry's type
 * still agrees with it, so an imported model exports with the MLmodel it came with (plus any
 * signature change made while it was a draft). The registry's own signature (with ranges and
 * categories, which MLflow cannot state) travels in the MLmodel's `metadata`.
 */
import type { Model, RegisterModelInput, Signature, SignatureColumn, SignatureType } from "@org/ml-sdk"
import { dump, load } from "js-yaml"
import { usageError } from "./ExitCodes.js"

/** The file naming an MLflow model's flavors and signature. */
export const MLMODEL = "MLmodel"
/** Where an exported MLmodel keeps the registry's signature (ranges and categories included). */
const SIGNATURE_METADATA_KEY = "ml_pipeline_signature"

/** One MLflow column spec: `{"type": "double", "name": "x", "required": true}`. */
interface ColSpec {
  readonly type: string
  readonly name?: string
  readonly required?: boolean
  readonly [other: string]: unknown
}

const fromMlflowType: Readonly<Record<string, SignatureType>> = {
  double: "number",
  float: "number",
  long: "integer",
  integer: "integer",
  boolean: "boolean",
  string: "string"
}
const toMlflowType: Readonly<Record<SignatureType, string>> = {
  number: "double",
  integer: "long",
  boolean: "boolean",
  string: "string",
  category: "string"
}

type Document = Record<string, unknown>

const isRecord = (value: unknown): value is Document =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The parsed MLmodel document (a YAML mapping), or a usage error naming what is wrong. */
export const parseMlmodel = (text: string, where: string): Document => {
  let document: unknown
  try {
    document = load(text)
  } catch (error) {
    throw usageError(`${where}: not valid YAML: ${(error as Error).message.split("\n")[0]}`)
  }
  if (!isRecord(document)) throw usageError(`${where}: must be a YAML mapping`)
  if (!isRecord(document.flavors) || Object.keys(document.flavors).length === 0) {
    throw usageError(`${where}: names no flavors (an MLflow model has e.g. python_function or sklearn)`)
  }
  return document
}

const colSpecs = (value: unknown, where: string): Array<ColSpec> | undefined => {
  if (value === undefined || value === null) return undefined
  let parsed: unknown
  try {
    parsed = typeof value === "string" ? JSON.parse(value) : value
  } catch {
    throw usageError(`${where}: must be a JSON list of column specs`)
  }
  if (!Array.isArray(parsed) || !parsed.every((c) => isRecord(c) && typeof c.type === "string")) {
    throw usageError(`${where}: must be a list of column specs ({"type": ..., "name": ...})`)
  }
  return parsed as Array<ColSpec>
}

const column = (spec: ColSpec, i: number, where: string, unnamed: string): SignatureColumn => {
  const type = fromMlflowType[spec.type]
  if (type === undefined) {
    throw usageError(
      `${where}[${i}]: MLflow type ${JSON.stringify(spec.type)} has no registry type ` +
        "(supported: double, float, long, integer, boolean, string; tensor signatures are not)"
    )
  }
  const name = spec.name ?? unnamed
  if (typeof name !== "string" || name === "") throw usageError(`${where}[${i}]: an input column needs a name`)
  return { name, type }
}

/**
 * The registry signature of an MLmodel document: the registry's own (in `metadata`) when an
 * exported model brought it back, else its colspec columns; undefined when it declares none.
 * An unnamed output (a model returning one array) is named `prediction` (`output_<i>` for several).
 */
export const signatureOf = (document: Document, where: string): Signature | undefined => {
  const carried = isRecord(document.metadata) ? document.metadata[SIGNATURE_METADATA_KEY] : undefined
  if (typeof carried === "string") {
    try {
      return JSON.parse(carried) as Signature // checked by the server like any signature
    } catch {
      throw usageError(`${where}: metadata.${SIGNATURE_METADATA_KEY} is not JSON`)
    }
  }
  if (!isRecord(document.signature)) return undefined
  const inputs = colSpecs(document.signature.inputs, `${where}: signature.inputs`)
  if (inputs === undefined || inputs.length === 0) return undefined
  const outputs = colSpecs(document.signature.outputs, `${where}: signature.outputs`) ?? []
  return {
    inputs: inputs.map((c, i) => column(c, i, `${where}: signature.inputs`, "")),
    ...(outputs.length > 0
      ? {
        outputs: outputs.map((c, i) =>
          column(c, i, `${where}: signature.outputs`, outputs.length === 1 ? "prediction" : `output_${i}`)
        )
      }
      : {})
  }
}

/** The files an MLmodel's flavors point at (model_path, pickled_model, data), which the directory must hold. */
export const referencedFiles = (document: Document): Array<string> => {
  const files = new Set<string>()
  for (const flavor of Object.values(document.flavors as Document)) {
    if (!isRecord(flavor)) continue
    for (const key of ["model_path", "pickled_model", "data"]) {
      if (typeof flavor[key] === "string") files.add(flavor[key])
    }
  }
  return [...files]
}

/** Registry metadata of a parameter value: a short string (the registry bounds them at 1024). */
const parameter = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : String(value).slice(0, 1024)

/**
 * The registration of an MLmodel document: framework from the flavor (sklearn, else the first
 * flavor other than python_function, else python_function) with its version, MLflow's metadata
 * as parameters, the signature, and an `mlflow` tag.
 */
export const registrationOf = (
  document: Document,
  options: { readonly name: string; readonly version: string; readonly algorithm?: string | undefined },
  where: string
): RegisterModelInput => {
  const flavors = document.flavors as Document
  const names = Object.keys(flavors)
  const framework = names.includes("sklearn") ? "sklearn" : names.find((n) => n !== "python_function") ?? names[0]!
  const flavor = isRecord(flavors[framework]) ? flavors[framework] : {}
  const pyfunc = isRecord(flavors.python_function) ? flavors.python_function : {}
  const metadata = isRecord(document.metadata) ? document.metadata : {}
  const example = isRecord(document.saved_input_example_info) ? document.saved_input_example_info : {}
  const entries: Array<[string, string | undefined]> = [
    ["framework_version", parameter(flavor[`${framework}_version`] ?? flavor.version)],
    ["mlflow_version", parameter(document.mlflow_version)],
    ["mlflow_model_uuid", parameter(document.model_uuid)],
    ["mlflow_utc_time_created", parameter(document.utc_time_created)],
    ["mlflow_flavors", names.join(",")],
    ["mlflow_loader_module", parameter(pyfunc.loader_module)],
    ["python_version", parameter(pyfunc.python_version)],
    ["serialization_format", parameter(flavor.serialization_format)],
    ["input_example", parameter(example.artifact_path)]
  ]
  const parameters = Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined))
  const signature = signatureOf(document, where)
  const algorithm = options.algorithm ?? parameter(metadata.algorithm) ?? "unknown"
  return {
    name: options.name,
    version: options.version,
    algorithm,
    framework,
    description: `Imported MLflow model${typeof document.model_uuid === "string" ? ` ${document.model_uuid}` : ""}` +
      (document.mlflow_version !== undefined ? ` (MLflow ${String(document.mlflow_version)})` : ""),
    parameters,
    tags: ["mlflow"],
    ...(signature !== undefined ? { signature } : {})
  }
}

const colSpecsOf = (columns: ReadonlyArray<SignatureColumn>, original: ReadonlyArray<ColSpec> | undefined) =>
  columns.map((c, i) => {
    const named = original?.find((o) => o.name === c.name)
    // An unnamed original column (a model's single output) matches by position.
    const before = named ?? (original?.[i] !== undefined && original[i]!.name === undefined ? original[i] : undefined)
    const type = before !== undefined && fromMlflowType[before.type] === c.type ? before.type : toMlflowType[c.type]
    return {
      type,
      ...(before !== undefined && before.name === undefined ? {} : { name: c.name }),
      required: before?.required ?? true
    }
  })

/**
 * The MLmodel of an exported version: the archived one with the version's signature written back
 * as MLflow colspecs (and whole in `metadata`), or the archived one as it was when the version
 * declares none.
 */
export const exportedMlmodel = (document: Document, model: Model): string => {
  const signature = model.signature
  if (signature === undefined) return dump(document, { lineWidth: -1 })
  const before = isRecord(document.signature) ? document.signature : {}
  const originalInputs = safeColSpecs(before.inputs)
  const originalOutputs = safeColSpecs(before.outputs)
  const next: Document = {
    ...document,
    signature: {
      ...before,
      inputs: JSON.stringify(colSpecsOf(signature.inputs, originalInputs)),
      outputs: signature.outputs === undefined ? null : JSON.stringify(colSpecsOf(signature.outputs, originalOutputs)),
      params: before.params ?? null
    },
    metadata: {
      ...(isRecord(document.metadata) ? document.metadata : {}),
      ml_pipeline_model_id: model.id,
      [SIGNATURE_METADATA_KEY]: JSON.stringify(signature)
    }
  }
  return dump(next, { lineWidth: -1 })
}

const safeColSpecs = (value: unknown): Array<ColSpec> | undefined => {
  try {
    return colSpecs(value, "")
  } catch {
    return undefined
  }
}
