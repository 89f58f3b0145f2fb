/**
 * `ml models import-mlflow` and `export-mlflow` end to end against a real server process, with
 * model directories written here in MLflow's documented layout (an sklearn LogisticRegression
 * pickled by python3 and scikit-learn, and a python_function model). The independent truths are
 * python3: its `tarfile` reads the stored artifact, its `yaml` parses the exported MLmodel and its
 * `pickle` loads the exported model and predicts as the original did. Signatures are enforced
 * over HTTP on monitors and pipelines created from an imported version, and archive entries that
 * could leave the target directory are refused on export.
 */
import { makeLearner } from "@org/ml-core"
import { createClient } from "@org/ml-sdk"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { expectCleanError, killHard, type ListeningServer, mlAgainst, startServer, tempDirectory } from "./cli.js"

const python = "/usr/bin/python3"
let server: ListeningServer
let ml: ReturnType<typeof mlAgainst>["ml"]
let json: ReturnType<typeof mlAgainst>["json"]
const work = tempDirectory("mlflow")
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
const py = (script: string, ...args: ReadonlyArray<string>) =>
  execFileSync(python, ["-c", script, ...args], { encoding: "utf8", maxBuffer: 64 << 20 })

const inputs = [
  { type: "double", name: "x1", required: true },
  { type: "double", name: "x2", required: true },
  { type: "float", name: "x3", required: true }
]

/** An sklearn model directory as mlflow.sklearn.save_model writes it; returns the truth python3 computed. */
const sklearnModel = (dir: string) => {
  fs.mkdirSync(dir)
  const truth = JSON.parse(py(
    `
import json, pickle, sys, numpy as np, sklearn
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(7)
X = rng.normal(size=(300, 3))
y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int)
model = LogisticRegression().fit(X, y)
with open(sys.argv[1] + "/model.pkl", "wb") as f:
    pickle.dump(model, f)
probe = rng.normal(size=(20, 3))
print(json.dumps({"sklearn": sklearn.__version__, "probe": probe.tolist(),
                  "predictions": model.predict(probe).tolist(), "probabilities": model.predict_proba(probe).tolist()}))
`,
    dir
  )) as {
    sklearn: string
    probe: Array<Array<number>>
    predictions: Array<number>
    probabilities: Array<Array<number>>
  }
  const mlmodel = [
    "artifact_path: model",
    "flavors:",
    "  python_function:",
    "    env:",
    "      conda: conda.yaml",
    "      virtualenv: python_env.yaml",
    "    loader_module: mlflow.sklearn",
    "    model_path: model.pkl",
    "    predict_fn: predict",
    "    python_version: 3.11.2",
    "  sklearn:",
    "    code: null",
    "    pickled_model: model.pkl",
    "    serialization_format: pickle",
    `    sklearn_version: ${truth.sklearn}`,
    "mlflow_version: 2.9.2",
    `model_size_bytes: ${fs.statSync(path.join(dir, "model.pkl")).size}`,
    "model_uuid: 3f1c2b9a8d7e4f60a1b2c3d4e5f60718",
    "run_id: 0a1b2c3d4e5f",
    "saved_input_example_info:",
    "  artifact_path: input_example.json",
    "  pandas_orient: split",
    "  type: dataframe",
    "signature:",
    `  inputs: '${JSON.stringify(inputs)}'`,
    `  outputs: '[{"type": "long", "required": true}]'`,
    "  params: null",
    "utc_time_created: '2024-01-15 10:20:30.123456'",
    ""
  ].join("\n")
  fs.writeFileSync(path.join(dir, "MLmodel"), mlmodel)
  fs.writeFileSync(
    path.join(dir, "conda.yaml"),
    "channels:\n- conda-forge\ndependencies:\n- python=3.11.2\n- pip\n- pip:\n  - mlflow==2.9.2\n" +
      `  - scikit-learn==${truth.sklearn}\nname: mlflow-env\n`
  )
  fs.writeFileSync(
    path.join(dir, "python_env.yaml"),
    "python: 3.11.2\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"
  )
  fs.writeFileSync(path.join(dir, "requirements.txt"), `mlflow==2.9.2\nscikit-learn==${truth.sklearn}\n`)
  fs.writeFileSync(
    path.join(dir, "input_example.json"),
    JSON.stringify({ columns: ["x1", "x2", "x3"], data: truth.probe.slice(0, 2) })
  )
  return truth
}

/** Each file of a directory (relative path -> SHA-256), walked by python3. */
const directoryDigests = (dir: string): Record<string, string> =>
  JSON.parse(py(
    `
import hashlib, json, os, sys
root = sys.argv[1]
out = {}
for base, _, files in os.walk(root):
    for name in files:
        full = os.path.join(base, name)
        out[os.path.relpath(full, root)] = hashlib.sha256(open(full, "rb").read()).hexdigest()
print(json.dumps(out))
`,
    dir
  ))

beforeAll(async () => {
  server = await startServer(tempDirectory("mlflow-data"))
  ;({ json, ml } = mlAgainst(server.url))
})
afterAll(async () => {
  await killHard(server.child)
  fs.rmSync(work, { recursive: true, force: true })
})

describe("ml models import-mlflow / export-mlflow", () => {
  it("imports an sklearn model: metadata and signature from MLmodel, a deterministic tar artifact", async () => {
    const dir = path.join(work, "sklearn-model")
    const truth = sklearnModel(dir)
    const model = await json([
      "models",
      "import-mlflow",
      dir,
      "--name",
      "iris-lr",
      "--version",
      "1",
      "--algorithm",
      "LogisticRegression"
    ])
    expect(model).toMatchObject({
      name: "iris-lr",
      version: "1",
      status: "draft",
      framework: "sklearn",
      algorithm: "LogisticRegression",
      tags: ["mlflow"],
      parameters: {
        framework_version: truth.sklearn,
        mlflow_version: "2.9.2",
        mlflow_model_uuid: "3f1c2b9a8d7e4f60a1b2c3d4e5f60718",
        mlflow_utc_time_created: "2024-01-15 10:20:30.123456",
        mlflow_flavors: "python_function,sklearn",
        mlflow_loader_module: "mlflow.sklearn",
        python_version: "3.11.2",
        serialization_format: "pickle",
        input_example: "input_example.json"
      },
      signature: {
        inputs: [{ name: "x1", type: "number" }, { name: "x2", type: "number" }, { name: "x3", type: "number" }],
        outputs: [{ name: "prediction", type: "integer" }]
      }
    })

    // The artifact is a tar that python3's tarfile reads: every file, byte for byte, with fixed metadata.
    const tar = path.join(work, "sklearn.tar")
    await json(["models", "download", model.id, "--out", tar])
    const bytes = fs.readFileSync(tar)
    expect(sha256(bytes)).toBe(model.artifact.sha256)
    const members = JSON.parse(py(
      `
import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print(json.dumps([[m.name, m.type.decode(), m.mtime, m.uid, m.gid, m.mode,
                       hashlib.sha256(t.extractfile(m).read()).hexdigest()] for m in t.getmembers()]))
`,
      tar
    )) as Array<[string, string, number, number, number, number, string]>
    const digests = directoryDigests(dir)
    expect(members.map((m) => m[0])).toEqual(Object.keys(digests).sort())
    for (const [name, type, mtime, uid, gid, mode, digest] of members) {
      expect({ name, type, mtime, uid, gid, mode, digest }).toEqual({
        name,
        type: "0",
        mtime: 0,
        uid: 0,
        gid: 0,
        mode: 0o644,
        digest: digests[name]
      })
    }
    // The same directory archives to the same bytes.
    const again = await json(["models", "import-mlflow", dir, "--name", "iris-lr", "--version", "1-again"])
    expect(again.artifact.sha256).toBe(model.artifact.sha256)
    expect(again.algorithm).toBe("unknown")

    // Export: the MLmodel parses in python3 with the same flavors and signature; the model predicts the same.
    const out = path.join(work, "exported")
    const exported = await json(["models", "export-mlflow", model.id, out])
    expect(exported).toMatchObject({ modelId: model.id, directory: out, sha256: model.artifact.sha256 })
    const loaded = JSON.parse(py(
      `
import json, pickle, sys, yaml
exported = yaml.safe_load(open(sys.argv[1] + "/MLmodel"))
original = yaml.safe_load(open(sys.argv[2] + "/MLmodel"))
model = pickle.load(open(sys.argv[1] + "/model.pkl", "rb"))
probe = json.loads(sys.argv[3])
print(json.dumps({
  "sameFlavors": exported["flavors"] == original["flavors"],
  "inputs": json.loads(exported["signature"]["inputs"]),
  "outputs": json.loads(exported["signature"]["outputs"]),
  "sameRest": {k: v for k, v in exported.items() if k not in ("signature", "metadata")} ==
              {k: v for k, v in original.items() if k != "signature"},
  "predictions": model.predict(probe).tolist(),
  "probabilities": model.predict_proba(probe).tolist()}))
`,
      out,
      dir,
      JSON.stringify(truth.probe)
    ))
    expect(loaded).toEqual({
      sameFlavors: true,
      inputs,
      outputs: [{ type: "long", required: true }],
      sameRest: true,
      predictions: truth.predictions,
      probabilities: truth.probabilities
    })
    const exportedDigests = directoryDigests(out)
    expect(Object.keys(exportedDigests).sort()).toEqual(Object.keys(digests).sort())
    for (const name of Object.keys(digests).filter((n) => n !== "MLmodel")) {
      expect(exportedDigests[name]).toBe(digests[name])
    }
    // A second export into an existing directory is refused rather than mixed in.
    expectCleanError(await ml(["models", "export-mlflow", model.id, out]), 1, "already exists")

    // A monitor of the imported version without --feature watches the signature's columns.
    const monitor = await json(["drift", "monitor", "create", "--id", "iris-lr-inputs", "--model", model.id])
    expect(monitor.features.map((f: { name: string; kind: string }) => [f.name, f.kind])).toEqual([
      ["x1", "feature"],
      ["x2", "feature"],
      ["x3", "feature"],
      ["prediction", "prediction"]
    ])
  })

  it("imports a python_function model and exports the signature changed while a draft", async () => {
    const dir = path.join(work, "pyfunc-model")
    fs.mkdirSync(dir)
    fs.writeFileSync(
      path.join(dir, "python_model.pkl"),
      py("import pickle, sys; sys.stdout.write(pickle.dumps({'w': [1, 2]}).hex())")
    )
    const pyfuncInputs = [
      { type: "string", name: "country", required: true },
      { type: "long", name: "items", required: true },
      { type: "boolean", name: "returning", required: true }
    ]
    fs.writeFileSync(
      path.join(dir, "MLmodel"),
      [
        "flavors:",
        "  python_function:",
        "    cloudpickle_version: 3.0.0",
        "    env:",
        "      conda: conda.yaml",
        "      virtualenv: python_env.yaml",
        "    loader_module: mlflow.pyfunc.model",
        "    python_model: python_model.pkl",
        "    python_version: 3.11.2",
        "mlflow_version: 2.9.2",
        "model_uuid: 9e8d7c6b5a4f30211f2e3d4c5b6a7988",
        "signature:",
        `  inputs: '${JSON.stringify(pyfuncInputs)}'`,
        `  outputs: '[{"type": "double", "name": "score", "required": true}]'`,
        "utc_time_created: '2024-02-01 08:00:00.000000'",
        ""
      ].join("\n")
    )
    fs.writeFileSync(path.join(dir, "conda.yaml"), "name: mlflow-env\n")
    fs.writeFileSync(path.join(dir, "python_env.yaml"), "python: 3.11.2\n")
    fs.writeFileSync(path.join(dir, "requirements.txt"), "mlflow==2.9.2\n")
    const model = await json(["models", "import-mlflow", dir, "--name", "pyfunc-scorer", "--version", "1"])
    expect(model).toMatchObject({
      framework: "python_function",
      algorithm: "unknown",
      parameters: { mlflow_loader_module: "mlflow.pyfunc.model", mlflow_flavors: "python_function" },
      signature: {
        inputs: [
          { name: "country", type: "string" },
          { name: "items", type: "integer" },
          { name: "returning", type: "boolean" }
        ],
        outputs: [{ name: "score", type: "number" }]
      }
    })
    // While a draft, the signature can be narrowed (categories, a range), and the export carries it.
    const client = createClient({ baseUrl: server.url })
    await client.registry.updateModel(model.id, {
      signature: {
        inputs: [
          { name: "country", type: "category", categories: ["DE", "FR"] },
          { name: "items", type: "integer", range: [1, 10] },
          { name: "returning", type: "boolean" }
        ],
        outputs: [{ name: "score", type: "number" }]
      }
    })
    const out = path.join(work, "pyfunc-exported")
    await json(["models", "export-mlflow", model.id, out])
    const parsed = JSON.parse(py(
      `
import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1] + "/MLmodel"))
print(json.dumps({"flavors": sorted(d["flavors"]), "inputs": json.loads(d["signature"]["inputs"]),
                  "carried": json.loads(d["metadata"]["ml_pipeline_signature"])["inputs"][0]}))
`,
      out
    ))
    expect(parsed).toEqual({
      flavors: ["python_function"],
      // MLflow has no categories: a category column is a string there, the original types are kept.
      inputs: pyfuncInputs,
      carried: { name: "country", type: "category", categories: ["DE", "FR"] }
    })
    // Re-importing the export brings the registry's own signature back, categories included.
    const back = await json(["models", "import-mlflow", out, "--name", "pyfunc-scorer", "--version", "2"])
    expect(back.signature.inputs[0]).toEqual({ name: "country", type: "category", categories: ["DE", "FR"] })
  })

  it("refuses a directory without MLmodel, without a flavor file or with an unsupported type", async () => {
    const empty = path.join(work, "not-a-model")
    fs.mkdirSync(empty)
    expectCleanError(await ml(["models", "import-mlflow", empty, "--name", "x", "--version", "1"]), 2, "MLmodel")
    const missing = path.join(work, "missing-pkl")
    fs.mkdirSync(missing)
    fs.writeFileSync(path.join(missing, "MLmodel"), "flavors:\n  sklearn:\n    pickled_model: model.pkl\n")
    expectCleanError(await ml(["models", "import-mlflow", missing, "--name", "x", "--version", "1"]), 2, "model.pkl")
    const binary = path.join(work, "binary-column")
    fs.mkdirSync(binary)
    fs.writeFileSync(
      path.join(binary, "MLmodel"),
      "flavors:\n  python_function:\n    loader_module: m\n" +
        `signature:\n  inputs: '[{"type": "binary", "name": "img"}]'\n`
    )
    expectCleanError(await ml(["models", "import-mlflow", binary, "--name", "x", "--version", "1"]), 2, "binary")
    // Nothing was registered by the refused imports.
    const client = createClient({ baseUrl: server.url })
    for await (const m of client.registry.listModels({ name: "x" })) throw new Error(`registered ${m.id}`)
  })

  it("refuses archive entries that could write outside the target: '..', absolute paths, symlinks", async () => {
    const client = createClient({ baseUrl: server.url })
    const cases = [
      { kind: "dotdot", entry: "tarfile.TarInfo('../escaped.txt')", expect: "'..' segment" },
      {
        kind: "absolute",
        entry: `tarfile.TarInfo(${JSON.stringify(path.join(work, "absolute.txt"))})`,
        expect: "absolute path"
      },
      { kind: "symlink", entry: "link_info()", expect: "symbolic link" }
    ]
    for (const c of cases) {
      const tar = path.join(work, `${c.kind}.tar`)
      py(
        `
import io, sys, tarfile
def link_info():
    info = tarfile.TarInfo("evil-link")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    return info
with tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT) as t:
    mlmodel = b"flavors:\\n  python_function:\\n    loader_module: m\\n"
    info = tarfile.TarInfo("MLmodel"); info.size = len(mlmodel); t.addfile(info, io.BytesIO(mlmodel))
    evil = ${c.entry}
    if evil.type == tarfile.REGTYPE:
        evil.size = 4; t.addfile(evil, io.BytesIO(b"evil"))
    else:
        t.addfile(evil)
`,
        tar
      )
      const model = await client.registry.registerModel(
        { name: `evil-${c.kind}`, version: "1", algorithm: "a", framework: "python_function" },
        fs.readFileSync(tar)
      )
      const target = path.join(work, `out-${c.kind}`)
      expectCleanError(await ml(["models", "export-mlflow", model.id, target]), 1, "refusing archive entry", c.expect)
      expect(fs.existsSync(target)).toBe(false)
    }
    expect(fs.existsSync(path.join(work, "escaped.txt"))).toBe(false)
    expect(fs.existsSync(path.join(path.dirname(work), "escaped.txt"))).toBe(false)
    expect(fs.existsSync(path.join(work, "absolute.txt"))).toBe(false)
  })
})

describe("signatures enforced over HTTP", () => {
  const post = async (route: string, body: unknown) => {
    const response = await fetch(`${server.url}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    return { status: response.status, body: await response.json() as any }
  }

  it("a monitor created from a model takes its features and refuses contradicting rows, storing nothing", async () => {
    const client = createClient({ baseUrl: server.url })
    const model = await client.registry.registerModel({
      name: "signed-http",
      version: "1",
      algorithm: "a",
      framework: "f",
      signature: {
        inputs: [
          { name: "amount", type: "number", range: [0, 100] },
          { name: "country", type: "category", categories: ["DE", "FR"] }
        ],
        outputs: [{ name: "score", type: "number" }]
      }
    })
    const created = await post("/v1/drift/monitors", {
      id: "signed-http",
      modelId: model.id,
      settings: { minWindow: 2 }
    })
    expect(created.status).toBe(201)
    expect(created.body.features).toEqual([
      { name: "amount", kind: "feature", type: "numeric" },
      { name: "country", kind: "feature", type: "categorical" },
      { name: "score", kind: "prediction", type: "numeric" }
    ])
    const baseline = await fetch(`${server.url}/v1/drift/monitors/signed-http/baseline`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        amount: [1, 2, 3, 4, 5],
        country: ["DE", "FR", "DE", "FR", "DE"],
        score: [0.1, 0.2, 0.3, 0.4, 0.5]
      })
    })
    expect(baseline.status).toBe(200)
    const good = { amount: 5, country: "DE", score: 0.3 }
    expect((await post("/v1/drift/monitors/signed-http/observations", { rows: [good, good, good] })).status).toBe(202)
    const refused = await post("/v1/drift/monitors/signed-http/observations", {
      rows: [good, { ...good, amount: 500 }, { ...good, country: "US" }, { ...good, colour: "red" }]
    })
    expect(refused.status).toBe(400)
    expect(refused.body.errors).toEqual([
      { path: "amount.1", message: "must be within the signature's range [0, 100], got 500" },
      { path: "country.2", message: "must be one of the signature's categories (\"DE\", \"FR\"), got \"US\"" },
      { path: "colour", message: "is not a feature of monitor signed-http" }
    ])
    const check = await post("/v1/drift/monitors/signed-http/check", {})
    expect(check.status).toBe(200)
    expect(check.body.features.map((f: { feature: string; windowCount: number }) => [f.feature, f.windowCount]))
      .toEqual([["amount", 3], ["country", 3], ["score", 3]])
  })

  it("a pipeline created from a model with a signature refuses contradicting samples, storing nothing", async () => {
    const client = createClient({ baseUrl: server.url })
    const state = makeLearner({
      kind: "logistic",
      optimizer: { type: "sgd", learningRate: 0.1 },
      features: { type: "schema", names: ["a", "b"] }
    }).state()
    const base = await client.registry.registerModel(
      {
        name: "signed-learner",
        version: "1",
        algorithm: "logistic_regression",
        framework: "ml-pipeline",
        signature: { inputs: [{ name: "a", type: "number", range: [-1, 1] }, { name: "b", type: "integer" }] }
      },
      new TextEncoder().encode(JSON.stringify(state))
    )
    const pipeline = await post("/v1/pipelines", { id: "signed-pipe", name: "p", modelId: base.id, batchSize: 1000 })
    expect(pipeline.status).toBe(201)
    expect(pipeline.body.signature.inputs.map((c: { name: string }) => c.name)).toEqual(["a", "b"])
    const ok = await post("/v1/pipelines/signed-pipe/samples", {
      samples: [{ sampleId: "s1", features: { a: 0.5, b: 2 }, label: 1 }]
    })
    expect(ok.status).toBe(202)
    const refused = await post("/v1/pipelines/signed-pipe/samples", {
      samples: [
        { sampleId: "s2", features: { a: 0.5, b: 2 }, label: 1 },
        { sampleId: "s3", features: { a: 2, b: 2.5 }, label: 0 }
      ]
    })
    expect(refused.status).toBe(400)
    expect(refused.body.errors).toEqual([
      { path: "1.features.a", message: "must be within the signature's range [-1, 1], got 2" },
      { path: "1.features.b", message: "must be an integer (signature type integer), got 2.5" }
    ])
    const status = await client.learner.getPipelineStatus("signed-pipe")
    expect(status.counters).toMatchObject({ received: 1, buffered: 1 })
  })
})
