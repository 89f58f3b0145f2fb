/** The Pipelines section (placeholder until its views land). */
export const Pipelines = () => (
  <section>
    <h1>Pipelines</h1>
  </section>
)
