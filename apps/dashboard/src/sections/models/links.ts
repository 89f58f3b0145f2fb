/** The section's URLs in one place, so pages link to each other the same way. */
export const modelListHref = (query: Readonly<Record<string, string | undefined>> = {}): string =>
  withQuery("/models", query)

export const modelNameHref = (name: string, query: Readonly<Record<string, string | undefined>> = {}): string =>
  withQuery(`/models/${encodeURIComponent(name)}`, query)

export const modelVersionHref = (model: { readonly name: string; readonly id: string }): string =>
  `/models/${encodeURIComponent(model.name)}/${encodeURIComponent(model.id)}`

/** Appends the non-empty values as a query string (empty filters stay out of the URL). */
export const withQuery = (path: string, query: Readonly<Record<string, string | undefined>>): string => {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value)
  const search = params.toString()
  return search ? `${path}?${search}` : path
}
