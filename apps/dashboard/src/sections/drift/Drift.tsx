/** The Drift section (placeholder until its views land). */
export const Drift = () => (
  <section>
    <h1>Drift</h1>
  </section>
)
