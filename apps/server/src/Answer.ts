/**
 * An answer before it is sent: the status, the body text and the headers of its own. The Hono
 * routes turn it into a web Response (`toResponse`); the fast path (FastPath.ts) writes it to
 * Node's response as it is, so both send the same status, headers and bytes.
 */
import { hardenedResponse } from "./SecurityHeaders.js"

export class Answer {
  constructor(
    readonly status: number,
    readonly body: string | null,
    readonly headers: Readonly<Record<string, string>>,
    /**
     * Built with the security headers in it (the API's success answers, SecurityHeaders.ts); a
     * problem answer gets them from the outermost middleware, as every other response does.
     */
    readonly hardened: boolean
  ) {}
}

/** The web Response of an answer (a handler's own Response is passed through). */
export const toResponse = (answer: Answer | Response): Response => {
  if (answer instanceof Response) return answer
  return answer.hardened
    ? hardenedResponse(answer.body, answer.status, answer.headers)
    : new Response(answer.body, { status: answer.status, headers: { ...answer.headers } })
}
