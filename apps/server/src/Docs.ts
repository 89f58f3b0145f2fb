/**
 * Browsable API docs rendered on the server from the OpenAPI document: per operation its
 * permission, parameters, body and answers with their fields, types, limits and examples, and
 * every named schema once at the end. No script or stylesheet from a CDN, so the page works on
 * machines without internet access.
 */
import type { OpenApiDocument } from "@org/ml-api"
import { escapeHtml as escape } from "./Html.js"

type Node = Record<string, any>

const refName = (ref: string) => ref.split("/").pop()!

/** A one-line type: `string`, `"a" | "b"`, `array of Model` (linked), `map of number`. */
const typeOf = (schema: Node | undefined): string => {
  if (schema === undefined || Object.keys(schema).length === 0) return "any"
  if (schema.$ref) return `<a href="#schema-${escape(refName(schema.$ref))}">${escape(refName(schema.$ref))}</a>`
  if (schema.enum) return schema.enum.map((v: unknown) => `<code>${escape(JSON.stringify(v))}</code>`).join(" | ")
  if (schema.anyOf ?? schema.oneOf) return (schema.anyOf ?? schema.oneOf).map(typeOf).join(" | ")
  if (schema.allOf) return schema.allOf.map(typeOf).join(" &amp; ")
  if (schema.type === "array") return `array of ${typeOf(schema.items)}`
  if (schema.type === "object" && !schema.properties && typeof schema.additionalProperties === "object") {
    return `map of ${typeOf(schema.additionalProperties)}`
  }
  return escape(String(schema.type ?? "any")) + (schema.format ? ` (${escape(schema.format)})` : "")
}

/** Limits worth knowing before sending: lengths, ranges, patterns, sizes. */
const limitsOf = (schema: Node): string => {
  const parts = [
    schema.minLength !== undefined && `min length ${schema.minLength}`,
    schema.maxLength !== undefined && `max length ${schema.maxLength}`,
    schema.minimum !== undefined && Math.abs(schema.minimum) < 2 ** 53 - 1 && `&ge; ${schema.minimum}`,
    schema.maximum !== undefined && schema.maximum < 2 ** 53 - 1 && `&le; ${schema.maximum}`,
    schema.maxItems !== undefined && `at most ${schema.maxItems} items`,
    schema.pattern && `pattern <code>${escape(schema.pattern)}</code>`,
    schema.description && escape(schema.description)
  ]
  return parts.filter(Boolean).join("; ")
}

/** Rows for an object's fields, nested objects flattened as `parent.child`. */
const fieldRows = (schema: Node, prefix = ""): Array<string> =>
  Object.entries<Node>(schema.properties ?? {}).flatMap(([name, field]) => {
    const required = (schema.required ?? []).includes(name) ? "yes" : ""
    const row = `<tr><td><code>${escape(prefix + name)}</code></td><td>${typeOf(field)}</td><td>${required}</td>` +
      `<td>${limitsOf(field)}</td></tr>`
    return field.properties ? [row, ...fieldRows(field, `${prefix}${name}.`)] : [row]
  })

const fieldsTable = (schema: Node | undefined): string => {
  if (!schema?.properties) return schema ? `<p>Type: ${typeOf(schema)}</p>` : ""
  return `<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Limits</th></tr>${
    fieldRows(schema).join("")
  }</table>`
}

const example = (value: unknown) =>
  value === undefined
    ? ""
    : `<details><summary>Example</summary><pre>${
      escape(typeof value === "string" ? value : JSON.stringify(value, null, 2))
    }</pre></details>`

const parametersTable = (parameters: ReadonlyArray<Node>) =>
  parameters.length === 0 ? "" : `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Type</th>` +
    `<th>Required</th><th>Limits</th></tr>${
      parameters.map((p) =>
        `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${typeOf(p.schema)}</td>` +
        `<td>${p.required ? "yes" : ""}</td><td>${limitsOf({ ...p.schema, description: p.description })}</td></tr>`
      ).join("")
    }</table>`

const content = (entries: Node | undefined) =>
  Object.entries<Node>(entries ?? {}).map(([type, media]) =>
    `<p><code>${escape(type)}</code></p>${
      media.schema?.$ref ? `<p>Type: ${typeOf(media.schema)}</p>` : fieldsTable(media.schema)
    }${example(media.example)}`
  ).join("")

const responses = (all: Node) =>
  Object.entries<Node>(all).map(([status, response]) => {
    const codes = response.content?.["application/problem+json"]?.schema?.allOf?.[1]?.properties?.code?.enum
    return `<h4>${status} ${escape(response.description ?? "")}</h4>` + (codes
      ? `<p>code: ${codes.map((c: string) => `<code>${escape(c)}</code>`).join(", ")}</p>`
      : content(response.content))
  }).join("")

const operation = (path: string, method: string, op: Node) =>
  `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>` +
  `<p>${escape(op.summary ?? "")}</p>${op.description ? `<p>${escape(op.description)}</p>` : ""}` +
  (op["x-permission"] ? `<p>Permission: <code>${escape(op["x-permission"])}</code></p>` : "") +
  parametersTable(op.parameters ?? []) +
  (op.requestBody ? `<h4>Body</h4>${content(op.requestBody.content)}` : "") +
  responses(op.responses ?? {}) + "</section>"

export const docsStyle =
  `body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:.4rem 0}table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}h4{margin:.6rem 0 .2rem}
.m{display:inline-block;min-width:4.5rem;font-size:.8rem;padding:.1rem .4rem;border-radius:.3rem;color:#fff;
background:#555;text-align:center}.get{background:#2b7}.post{background:#27c}.put{background:#c82}
.patch{background:#a5c}.delete{background:#c33}code{background:#f4f4f4;padding:0 .2rem}
pre{background:#f7f7f7;padding:.5rem}`

export const docsPage = (openapi: OpenApiDocument): string => {
  const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op: op as Node }))
  )
  const groups = openapi.tags.map(({ name, description }) => {
    const ops = operations.filter(({ op }) => op.tags?.[0] === name)
    return ops.length === 0 ? "" : `<h2 id="tag-${name}">${escape(name)}</h2><p>${escape(description)}</p>` +
      ops.map(({ method, op, path }) => operation(path, method, op)).join("\n")
  }).join("\n")
  const schemas = Object.entries(openapi.components.schemas).map(([name, schema]) =>
    `<section id="schema-${escape(name)}"><h3>${escape(name)}</h3>${fieldsTable(schema as Node)}</section>`
  ).join("\n")
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(openapi.info.title)}</title>
<style>${docsStyle}</style></head>
<body><h1>${escape(openapi.info.title)}</h1><p>${escape(openapi.info.description)}</p>
<p>Machine-readable contract: <a href="/openapi.json">/openapi.json</a></p>${groups}
<h2>Schemas</h2>${schemas}</body></html>`
}
