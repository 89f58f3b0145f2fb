/**
 * Lifecycle actions on one experiment, each shown only when the status allows it and the signed-in
 * role holds the permission (the server checks again): start and pause (experiments:write),
 * re-split the traffic (experiments:write; shares must sum to 100), complete, optionally promoting
 * the winner (experiments:complete). Every action reloads the page's data when it succeeds.
 */
import type { Experiment, ExperimentResults } from "@org/ml-sdk"
import { useEffect, useState } from "preact/hooks"
import { useSession } from "../../shell/Session.js"
import { formatNumber } from "../../ui/format.js"
import { ErrorMessage } from "../../ui/States.js"
import { useAction } from "../../ui/useResource.js"

interface ActionProps {
  readonly experiment: Experiment
  readonly results: ExperimentResults
  readonly names: ReadonlyArray<string>
  readonly reload: () => void
}

export const ExperimentActions = ({ experiment, names, reload, results }: ActionProps) => {
  const { can } = useSession()
  const { id, status } = experiment
  const start = useAction((client) => client.experiments.start(id), reload)
  const pause = useAction((client) => client.experiments.pause(id), reload)
  const mayWrite = can("experiments:write")
  const mayComplete = can("experiments:complete") && (status === "running" || status === "paused")
  const mayStart = mayWrite && (status === "draft" || status === "paused")
  const mayPause = mayWrite && status === "running"
  const mayResplit = mayWrite && status !== "completed"
  if (!mayStart && !mayPause && !mayResplit && !mayComplete) return null
  return (
    <div role="group" aria-label="Experiment actions">
      <div class="exp-actions">
        {mayStart && (
          <button type="button" disabled={start.pending} onClick={() => start.run()}>
            {start.pending ? "Starting…" : status === "paused" ? "Resume" : "Start"}
          </button>
        )}
        {mayPause && (
          <button type="button" class="secondary" disabled={pause.pending} onClick={() => pause.run()}>
            {pause.pending ? "Pausing…" : "Pause"}
          </button>
        )}
        {mayResplit && <ResplitForm experiment={experiment} names={names} reload={reload} />}
        {mayComplete && <CompleteForm experiment={experiment} results={results} names={names} reload={reload} />}
      </div>
      {start.error !== undefined && <ErrorMessage error={start.error} title="Could not start the experiment" />}
      {pause.error !== undefined && <ErrorMessage error={pause.error} title="Could not pause the experiment" />}
    </div>
  )
}

/** Within this of 100 the split is accepted (the server allows 1e-9; typing 33.3 three times does not). */
const sumTolerance = 1e-9

const ResplitForm = ({ experiment, names, reload }: Omit<ActionProps, "results">) => {
  const current = experiment.variants.map((v) => String(v.trafficPct))
  const [shares, setShares] = useState<ReadonlyArray<string>>(current)
  // A refresh that brings a new revision (someone else re-split) resets the form to what is stored.
  useEffect(() => setShares(current), [experiment.revision])
  const resplit = useAction(
    (client, trafficPct: ReadonlyArray<number>) => client.experiments.update(experiment.id, { trafficPct }),
    reload
  )
  const numbers = shares.map((s) => (s.trim() === "" ? Number.NaN : Number(s)))
  const invalid = numbers.findIndex((n) => !(Number.isFinite(n) && n >= 0 && n <= 100))
  const total = numbers.reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), 0)
  const sumsTo100 = Math.abs(total - 100) <= sumTolerance
  const problem = invalid !== -1
    ? `The share of ${names[invalid]} must be a number from 0 to 100.`
    : sumsTo100
    ? undefined
    : `The shares must sum to 100 (now ${formatNumber(total, 6)}).`
  return (
    <details>
      <summary>Re-split traffic</summary>
      <form
        aria-label="Re-split traffic"
        onSubmit={(event) => {
          event.preventDefault()
          if (problem === undefined) void resplit.run(numbers)
        }}
      >
        <div class="exp-split">
          {experiment.variants.map((v, i) => (
            <div key={v.modelId}>
              <label for={`share-${i}`}>{`${names[i]}${v.isControl ? " (control)" : ""} %`}</label>
              <input
                id={`share-${i}`}
                type="number"
                inputMode="decimal"
                min={0}
                max={100}
                step="any"
                required
                value={shares[i]}
                aria-invalid={invalid === i ? "true" : undefined}
                onInput={(event) => {
                  const value = event.currentTarget.value
                  setShares((previous) => previous.map((s, k) => (k === i ? value : s)))
                }}
              />
            </div>
          ))}
        </div>
        <p aria-live="polite" class={problem ? "" : "muted"}>
          {problem ?? `Total ${formatNumber(total, 6)}%.`}
          {experiment.mode === "bandit" && experiment.banditHistory.length > 0
            ? " This bandit already reweights traffic; the split applies again only if reweighting stops."
            : ""}
        </p>
        <button type="submit" disabled={problem !== undefined || resplit.pending}>
          {resplit.pending ? "Saving…" : "Save split"}
        </button>
      </form>
      {resplit.error !== undefined && <ErrorMessage error={resplit.error} title="Could not re-split the traffic" />}
    </details>
  )
}

const CompleteForm = ({ experiment, names, reload, results }: ActionProps) => {
  const [promote, setPromote] = useState(false)
  const complete = useAction(
    (client, promoteWinner: boolean) => client.experiments.complete(experiment.id, { promoteWinner }),
    reload
  )
  const winner = results.decision.winnerModelId
  const winnerName = winner ? names[experiment.variants.findIndex((v) => v.modelId === winner)] ?? winner : undefined
  return (
    <details>
      <summary>Complete…</summary>
      <form
        aria-label="Complete the experiment"
        onSubmit={(event) => {
          event.preventDefault()
          void complete.run(promote && winner !== null)
        }}
      >
        <p>
          Completing freezes the decision ({results.decision.outcome.replaceAll("_", " ")}) and serves{" "}
          {winnerName ? `the winner, ${winnerName},` : "the control"} to everyone. It cannot be undone.
        </p>
        {winnerName && (
          <label class="exp-check">
            <input type="checkbox" checked={promote} onChange={(event) => setPromote(event.currentTarget.checked)} />
            Promote {winnerName} to production
          </label>
        )}
        <button type="submit" class="danger" disabled={complete.pending}>
          {complete.pending ? "Completing…" : "Complete experiment"}
        </button>
      </form>
      {complete.error !== undefined && (
        <ErrorMessage
          error={complete.error}
          title="Could not complete the experiment"
        />
      )}
    </details>
  )
}
