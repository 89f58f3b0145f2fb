/**
 * Connection URLs appear in logs, startup messages and errors; their user and password must not.
 * `redis://user:secret@host:6379` reads as `redis://***@host:6379`; a URL without credentials is
 * unchanged.
 */
export const redactUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@")
