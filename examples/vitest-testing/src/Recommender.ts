/**
 * A user's own service code on ML Pipeline's Promise API: which model answers a user (the
 * running experiment's sticky assignment, else the production version), and reporting an outcome.
 * Its tests (test/recommender.test.ts) run it on `createMlPipeline({ memory: true })`.
 */
import type { MlPipelineInstance } from "@org/ml-pipeline"

export class Recommender {
  constructor(
    private readonly ml: MlPipelineInstance,
    private readonly modelName: string,
    private readonly experimentId?: string
  ) {}

  /** The model id that should answer `userId`. */
  async modelFor(userId: string): Promise<string> {
    if (this.experimentId !== undefined) {
      const experiment = await this.ml.experiments.getExperiment(this.experimentId)
      if (experiment.status === "running") {
        return (await this.ml.experiments.getModelAssignment(this.experimentId, userId)).modelId
      }
    }
    const production = await this.ml.registry.getProduction(this.modelName)
    if (production === undefined) throw new Error(`No production version of ${this.modelName}`)
    return production.id
  }

  /** Reports a conversion (1) or none (0) for the model that answered. */
  async reportConversion(modelId: string, converted: boolean): Promise<void> {
    if (this.experimentId === undefined) return
    await this.ml.experiments.recordMetrics(this.experimentId, [
      { modelId, metric: "conversion", value: converted ? 1 : 0 }
    ])
  }
}
