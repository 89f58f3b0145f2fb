/** Sign-in with an API key: it goes to sessionStorage (this tab only), never into a URL. */
import { useState } from "preact/hooks"
import { useSession } from "./Session.js"

export const SignIn = () => {
  const session = useSession()
  const [token, setToken] = useState("")
  const rejected = session.state.kind === "needs-key" && session.state.rejected
  return (
    <section class="sign-in">
      <h1>Sign in</h1>
      <p>This server requires an API key. Ask an admin for one (`POST /v1/keys`), or use the bootstrap token.</p>
      {rejected && <p class="state error" role="alert">That key was not accepted (unknown, revoked or expired).</p>}
      <form
        onSubmit={(event) => {
          event.preventDefault()
          if (token.trim()) session.signIn(token.trim())
        }}
      >
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit">Sign in</button>
      </form>
    </section>
  )
}
