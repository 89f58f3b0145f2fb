/** The Models section (placeholder until its views land). */
export const Models = () => (
  <section>
    <h1>Models</h1>
  </section>
)
