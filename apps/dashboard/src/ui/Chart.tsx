/**
 * Charts with Observable Plot, loaded on first use (it is most of the dashboard's JavaScript, and list
 * pages need none of it). Each chart is a labelled figure; `summary` gives screen readers the gist.
 */
import type * as PlotTypes from "@observablehq/plot"
import type { ComponentChildren } from "preact"
import { useEffect, useRef, useState } from "preact/hooks"
import { Empty } from "./States.js"

type PlotModule = typeof PlotTypes
let plotModule: Promise<PlotModule> | undefined
const loadPlot = () => (plotModule ??= import("@observablehq/plot"))

/**
 * Plot labels each mark's <g> with aria-label ("dot", "rule"), which ARIA prohibits on a plain group
 * (axe: aria-prohibited-attr) and which says nothing inside a chart that is one labelled image: the
 * names move to data-mark (tests count marks by it), and the figure's summary speaks for the chart.
 */
const withoutMarkLabels = <E extends Element>(chart: E): E => {
  for (const element of chart.querySelectorAll("[aria-label]")) {
    element.setAttribute("data-mark", element.getAttribute("aria-label") ?? "")
    element.removeAttribute("aria-label")
  }
  return chart
}

export interface ChartProps {
  /** Builds the chart from the Plot module (marks, scales); width is set from the container. */
  readonly render: (Plot: PlotModule, width: number) => SVGSVGElement | HTMLElement
  readonly title: string
  readonly summary?: string
  /** Re-render when these change. */
  readonly deps: ReadonlyArray<unknown>
  readonly testId?: string
}

export const Chart = ({ render, title, summary, deps, testId }: ChartProps) => {
  const container = useRef<HTMLDivElement>(null)
  const [failed, setFailed] = useState<string | undefined>(undefined)
  useEffect(() => {
    let cancelled = false
    const element = container.current
    if (!element) return
    loadPlot().then((Plot) => {
      if (cancelled) return
      const width = Math.max(280, Math.min(element.clientWidth || 640, 960))
      const chart = withoutMarkLabels(render(Plot, width))
      chart.setAttribute("role", "img")
      chart.setAttribute("aria-label", summary ?? title)
      element.replaceChildren(chart)
    }).catch((error: unknown) => !cancelled && setFailed(String(error)))
    return () => {
      cancelled = true
    }
  }, deps)
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      {failed ? <p class="state error">Chart unavailable: {failed}</p> : <div ref={container} class="chart-body" />}
    </figure>
  )
}

/** A chart's place while there is nothing to draw yet: its title and why it is empty. */
export const EmptyChart = ({ title, children }: { readonly title: string; readonly children: ComponentChildren }) => (
  <figure class="chart">
    <figcaption>{title}</figcaption>
    <Empty>{children}</Empty>
  </figure>
)
