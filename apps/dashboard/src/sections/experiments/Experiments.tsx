/** The Experiments section (placeholder until its views land). */
export const Experiments = () => (
  <section>
    <h1>Experiments</h1>
  </section>
)
