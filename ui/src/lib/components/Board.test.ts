// @vitest-environment happy-dom
// The supervisor's floor against the fake backend: queues, representatives and live
// conversations counted from the stores, a conversation past its queue's target marked, and the
// filter.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import type { Conversation } from "../ipc/types";
import { settle, type } from "./testing";
import Board from "./Board.svelte";

const state: { current: FakeState } = { current: fakeState() };

function conversation(id: number, name: string, routing: Record<string, unknown>): Conversation {
  return {
    id, channel_id: "1650000000", chat_id: `U${id}`, display_name: name, picture_url: null, language: "en", following: true,
    last_message_at: 0, last_preview: null, unread: 0, reply_until: null,
    routing: {
      id: `c${id}`, version: 1, channelId: "1650000000", chatId: `U${id}`, state: "open", queueId: "general", queueName: "General",
      mode: "push", owner: null, offer: null, firstText: null, language: "en", openedAt: Date.now() - 90_000, lastCustomerAt: Date.now() - 30_000,
      acceptedAt: null, endedAt: null, closedAt: null, closeReason: null, transferredFrom: null, consultants: [], survey: null,
      surveyAsked: false, contact: null, flag: null, consent: null, ...routing,
    } as Conversation["routing"],
  };
}

describe("the floor", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    state.current.queues[0].queue = { ...state.current.queues[0].queue, supervisors: ["sam"], serviceLevel: { percent: 80, withinMs: 60_000 } };
    state.current.agents = [
      { user: "rita", presence: "busy", chosen: "available", capacity: 3, used: 1, connected: true, since: Date.now() - 125_000 },
      { user: "noi", presence: "available", chosen: "available", capacity: 3, used: 0, connected: true, since: Date.now() - 5_000 },
    ];
    i18n.set("en");
    target = document.createElement("div");
    document.body.append(target);
    const app = fakeConsole(state.current, "sam", "supervisor");
    app.conversations.list = [
      conversation(1, "Ann", {}),
      conversation(2, "Ben", { offer: { to: "noi", offeredAt: Date.now(), expiresAt: Date.now() + 60_000 }, openedAt: Date.now() - 10_000 }),
      conversation(3, "Cat", { state: "active", owner: "rita", acceptedAt: Date.now() - 20_000 }),
      conversation(4, "Dan", { state: "closed", owner: "rita" }),
    ];
    const { session, conversations, requests, thread, admin, board } = app;
    component = mount(Board, { target, props: { session, conversations, requests, thread, admin, board, onclose: () => {} } });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
  });

  it("counts each queue and representative, and marks a wait past the target", () => {
    const cell = (row: string, column: string) => target.querySelector(`${row} td[data-column=${column}]`)?.textContent?.trim();
    expect(cell("tr[data-queue=general]", "waiting")).toBe("2");
    expect(cell("tr[data-queue=general]", "offered")).toBe("1");
    expect(cell("tr[data-queue=general]", "in_progress")).toBe("1");
    expect(cell("tr[data-queue=general]", "longest")).toBe("1:30");
    expect(cell("tr[data-agent=rita]", "active")).toBe("1");
    expect(cell("tr[data-agent=rita]", "presence")).toMatch(/^Busy\s· 2:05$/);
    expect(cell("tr[data-agent=rita]", "load")).toBe("1/3");
    const rows = [...target.querySelectorAll("table.live tbody tr")];
    expect(rows.map((r) => r.querySelector("th button")?.textContent)).toEqual(["Ann", "Cat", "Ben"]);
    expect(rows[0].classList.contains("breach")).toBe(true);
    expect(rows[2].classList.contains("breach")).toBe(false);
    expect(rows[2].textContent).toContain("offered to noi");
  });

  it("filters the live conversations", async () => {
    type(target.querySelector<HTMLInputElement>("input[name=board-filter]")!, "rita");
    await settle();
    expect([...target.querySelectorAll("table.live tbody th button")].map((b) => b.textContent)).toEqual(["Cat"]);
  });
});
