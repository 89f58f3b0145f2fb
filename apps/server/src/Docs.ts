/**
 * Browsable API docs rendered on the server from the OpenAPI document: no script or stylesheet
 * from a CDN, so the page works on machines without internet access.
 */
const escape = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" })[ch]!)

export const docsPage = (
  openapi: { info: { title: string; description: string }; paths: Record<string, Record<string, any>> }
): string => {
  const operations = Object.entries(openapi.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = (op.parameters ?? []).map((p: any) => `<code>${escape(p.name)}</code> (${p.in})`).join(", ")
      const body = op.requestBody?.content
        ? Object.entries(op.requestBody.content).map(([type, c]: [string, any]) =>
          `${type} ${c.schema?.$ref ? escape(c.schema.$ref.split("/").pop()) : ""}`
        ).join(", ")
        : ""
      const responses = Object.keys(op.responses ?? {}).join(", ")
      return `<section><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${
        escape(path)
      }</code></h3><p>${escape(op.summary ?? "")}</p>` +
        (params ? `<p>Parameters: ${params}</p>` : "") + (body ? `<p>Body: ${body}</p>` : "") +
        `<p>Responses: ${responses}</p></section>`
    })
  ).join("\n")
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(openapi.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}section{border-top:1px solid #ddd;padding:.4rem 0}
.m{display:inline-block;min-width:4.5rem;font-size:.8rem;padding:.1rem .4rem;border-radius:.3rem;color:#fff;background:#555;text-align:center}
.get{background:#2b7}.post{background:#27c}.put{background:#c82}.patch{background:#a5c}code{background:#f4f4f4;padding:0 .2rem}</style></head>
<body><h1>${escape(openapi.info.title)}</h1><p>${escape(openapi.info.description)}</p>
<p>Machine-readable contract: <a href="/openapi.json">/openapi.json</a></p>${operations}</body></html>`
}
