/**
 * Arrow-key movement between the cards of a gallery (defect 15). Cards are the elements marked
 * `data-grid-item` inside the container; columns are counted from their layout (items sharing the
 * first item's top edge), so Up/Down move by one row whatever the viewport.
 */
import type { KeyboardEvent } from "react";

/** Index to move to from `index` for `key` in a grid of `count` items and `columns` columns, or
 * null when the key is not a movement key. Clamped to the ends (no wrapping). */
export function nextGridIndex(key: string, index: number, count: number, columns: number): number | null {
  const cols = Math.max(1, columns);
  let next: number;
  switch (key) {
    case "ArrowRight":
      next = index + 1;
      break;
    case "ArrowLeft":
      next = index - 1;
      break;
    case "ArrowDown":
      next = index + cols;
      break;
    case "ArrowUp":
      next = index - cols;
      break;
    case "Home":
      next = 0;
      break;
    case "End":
      next = count - 1;
      break;
    default:
      return null;
  }
  if (next < 0 || next >= count) return index;
  return next;
}

function columnCount(items: HTMLElement[]): number {
  if (items.length < 2) return 1;
  const top = items[0].getBoundingClientRect().top;
  const inFirstRow = items.filter((el) => Math.abs(el.getBoundingClientRect().top - top) < 2).length;
  return Math.max(1, inFirstRow);
}

/** `onKeyDown` for a gallery container: moves focus between its `[data-grid-item]` elements. */
export function onGridKeyDown(event: KeyboardEvent<HTMLElement>): void {
  const target = event.target as HTMLElement;
  if (!target.matches("[data-grid-item]")) return;
  const items = Array.from(event.currentTarget.querySelectorAll<HTMLElement>("[data-grid-item]"));
  const index = items.indexOf(target);
  if (index < 0) return;
  const next = nextGridIndex(event.key, index, items.length, columnCount(items));
  if (next === null) return;
  event.preventDefault();
  items[next].focus();
}
