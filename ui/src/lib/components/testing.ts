// What the screens' tests share: letting Svelte and the fake backend settle, and typing as a
// person does.
import { flushSync } from "svelte";

/** Lets pending answers of the fake backend arrive and Svelte redraw. */
export async function settle() {
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 0));
    flushSync();
  }
}

/** Types `value` into a field (one input event, as each key would send). */
export function type(el: HTMLInputElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}
