// The screens reach the relay only through the typed calls of `RelayApi` (generated with their
// types from the Rust protocol): no component or store writes a relay path, and none casts
// what the backend answers to a type of its own. Components make those calls through the
// stores (session, conversations, thread, requests, admin, contacts), never themselves.
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

const components = import.meta.glob(["../components/**/*.svelte"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const bindings = import.meta.glob(["./bindings.ts"], { query: "?raw", import: "default", eager: true }) as Record<string, string>;

/** The names of the typed relay calls, read from the generated `RelayApi` interface. */
function relayCalls(): string[] {
  const text = Object.values(bindings)[0];
  const block = text.slice(text.indexOf("export interface RelayApi {"), text.indexOf("}", text.indexOf("export interface RelayApi {")));
  return [...block.matchAll(/^\s+(\w+)\(args:/gm)].map((m) => m[1]);
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

  it("components make relay calls through the stores", () => {
    const calls = relayCalls();
    expect(calls.length).toBeGreaterThan(20);
    // Over the whole text: `backend\n  .listQueues(` counts too.
    const direct = new RegExp(`backend\\s*\\.\\s*(${calls.join("|")})\\s*\\(`, "g");
    const out = Object.entries(components).flatMap(([file, text]) => [...text.matchAll(direct)].map((m) => `${file}: ${m[0]}`));
    expect(out).toEqual([]);
  });
});
