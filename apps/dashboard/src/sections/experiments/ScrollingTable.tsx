/**
 * A table that scrolls sideways in a narrow window. The scrolling box is a focusable, labelled
 * region so keyboard users can scroll it too (axe: scrollable-region-focusable).
 */
import type { ComponentChildren } from "preact"

export const ScrollingTable = (
  { children, label }: { readonly label: string; readonly children: ComponentChildren }
) => (
  <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
    {children}
  </div>
)
