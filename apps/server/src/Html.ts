/**
 * Escaping for the HTML the server renders itself (/docs, the drift report page): every value
 * that came from a user or a stored record passes through `escapeHtml` before it joins markup,
 * in text and in quoted attribute values alike.
 */

const entities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => entities[ch]!)
