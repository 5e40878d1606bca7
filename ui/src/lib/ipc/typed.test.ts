// The screens reach the relay only through the typed calls of `RelayApi` (generated with their
// types from the Rust protocol): no component or store writes a relay path, and none casts
// what the backend answers to a type of its own.
/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";

const sources = import.meta.glob(["../components/**/*.svelte", "../stores/**/*.ts", "../**/*.svelte.ts", "!../**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

/** `file:line: text` for every line of the screens that matches. */
function offenders(pattern: RegExp): string[] {
  const out: string[] = [];
  for (const [file, text] of Object.entries(sources)) {
    text.split("\n").forEach((line, i) => {
      if (pattern.test(line)) out.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

describe("relay calls are typed", () => {
  it("finds the screens", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
  });

  it("no screen writes a relay path", () => {
    expect(offenders(/["'`]\/api\/|\/line\/|relay(Get|Put|Send)\b/)).toEqual([]);
  });

  it("no screen casts an answer of the backend", () => {
    // `(await backend.x(...)) as T`, `backend.x().then((x) => x as T)` and the like: any line
    // that calls the backend and casts to a type.
    expect(offenders(/backend\..*\bas\s+(unknown\b|[A-Z{[]|Record<|Array<)/)).toEqual([]);
  });
});
