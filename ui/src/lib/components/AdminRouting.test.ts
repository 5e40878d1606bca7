// @vitest-environment happy-dom
// The routing set-up screens against the fake backend: what an admin does with the forms
// reaches the relay as typed calls, and a refusal shows under its field in the user's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import { settle } from "./testing";
import AdminRouting from "./AdminRouting.svelte";

const state: { current: FakeState } = { current: fakeState() };

function props() {
  const app = fakeConsole(state.current, "ada");
  return { admin: app.admin, requests: app.requests };
}

function byLabel(root: HTMLElement, text: string): HTMLInputElement | HTMLSelectElement {
  const label = [...root.querySelectorAll("label")].find((l) => l.textContent?.includes(text));
  const input = label?.querySelector("input, select");
  if (!input) throw new Error(`no field labelled ${text}`);
  return input as HTMLInputElement;
}

function button(root: HTMLElement, text: string): HTMLButtonElement {
  const b = [...root.querySelectorAll("button")].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button ${text}`);
  return b;
}

function change(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, value: string) {
  el.value = value;
  // As a person choosing does: the option itself becomes the selected one.
  if (el instanceof HTMLSelectElement) for (const o of el.options) o.selected = o.value === value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

describe("routing set-up forms", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    i18n.set("en");
    target = document.createElement("div");
    document.body.append(target);
    component = mount(AdminRouting, { target, props: props() });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
    i18n.set("en");
  });

  it("shows the workstream as a form and saves any wrap-up duration", async () => {
    expect((byLabel(target, "Offer countdown") as HTMLInputElement).value).toBe("120");
    change(byLabel(target, "Wrap-up uses capacity"), "duration");
    await settle();
    change(byLabel(target, "Wrap-up block (minutes)"), "2.5");
    button(target, "Save workstream").click();
    await settle();
    expect(state.current.workstreams["1650000000"].wrapUpBlocks).toEqual({ kind: "duration", ms: 150_000 });
    expect(target.querySelector(".status")?.textContent).toContain("Saved.");
  });

  it("puts a refusal under its field, in Japanese", async () => {
    i18n.set("ja");
    await settle();
    const limit = target.querySelector<HTMLInputElement>("input[name=declineLimit]")!;
    change(limit, "6");
    button(target, "ワークストリームを保存").click();
    await settle();
    const under = limit.closest("label")?.querySelector(".err")?.textContent;
    expect(under).toBe("1〜5 の数値を入力してください。");
    expect(limit.getAttribute("aria-invalid")).toBe("true");
    expect(state.current.workstreams["1650000000"]).toBeUndefined();
  });

  it("builds a rule with a required skill and tests a message against it", async () => {
    state.current.queues.push({ id: "thai", queue: { name: "Thai", priority: 0, members: [], supervisors: [], hours: null, serviceLevel: null, overflow: [] } });
    unmount(component);
    component = mount(AdminRouting, { target, props: props() });
    await settle();
    button(target, "Routing rules").click();
    await settle();
    button(target, "Add a rule").click();
    await settle();
    change(target.querySelector<HTMLInputElement>("input[aria-label='Rule name']")!, "Thai speakers");
    change(target.querySelector<HTMLInputElement>("input[aria-label='Message contains one of']")!, "สวัสดี, ขอบคุณ");
    change(byLabel(target, "Then send to"), "thai");
    change(byLabel(target, "Required skills"), "thai");
    await settle();
    change(target.querySelector<HTMLTextAreaElement>("textarea[name=sample]")!, "สวัสดีค่ะ");
    target.querySelector<HTMLFormElement>("form.test")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    const result = target.querySelector(".result")?.textContent ?? "";
    expect(result).toContain("Rule 1 “Thai speakers” matches");
    expect(result).toContain("Thai");
    expect(result).toContain("needs thai");
    button(target, "Save workstream").click();
    await settle();
    const saved = state.current.workstreams["1650000000"].rules[0];
    expect(saved).toMatchObject({
      name: "Thai speakers",
      queue: "thai",
      requiredSkills: ["thai"],
      conditions: [{ field: "keywords", anyOf: ["สวัสดี", "ขอบคุณ"] }],
    });
  });

  it("writes an automated message in Thai with a variable chip", async () => {
    button(target, "Automated messages").click();
    await settle();
    const block = [...target.querySelectorAll("fieldset")].find((f) => f.querySelector("legend")?.textContent === "Place in the queue")!;
    [...block.querySelectorAll("button")].find((b) => b.textContent === "ไทย")!.click();
    await settle();
    const area = block.querySelector("textarea")!;
    change(area, "คุณอยู่ลำดับที่ ");
    area.setSelectionRange(area.value.length, area.value.length);
    [...block.querySelectorAll("button")].find((b) => b.textContent === "{Position}")!.click();
    await settle();
    expect(block.querySelector(".preview")?.textContent).toContain("คุณอยู่ลำดับที่ 3");
    button(target, "Save workstream").click();
    await settle();
    expect(state.current.workstreams["1650000000"].messages.queue_position).toEqual({ th: "คุณอยู่ลำดับที่ {Position}" });
  });

  it("does not add a queue over one that exists", async () => {
    button(target, "Queues").click();
    await settle();
    change(target.querySelector<HTMLInputElement>("input[name=new-queue-id]")!, "general");
    target.querySelector<HTMLFormElement>("form.row")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    expect(target.querySelector("form.row + .err")?.textContent).toBe("This is already taken.");
    expect(state.current.calls).not.toContain("putQueue");
  });

  it("adds a queue with hours and a holiday", async () => {
    button(target, "Queues").click();
    await settle();
    change(target.querySelector<HTMLInputElement>("input[name=new-queue-id]")!, "vip");
    change(target.querySelector<HTMLInputElement>("input[name=new-queue-name]")!, "VIP");
    target.querySelector<HTMLFormElement>("form.row")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    const card = target.querySelector<HTMLDetailsElement>("details[data-queue=vip]")!;
    card.open = true;
    const hours = card.querySelector<HTMLInputElement>("input[name=has-hours]")!;
    hours.click();
    await settle();
    change(card.querySelector<HTMLSelectElement>("select[name=time-zone]")!, "Asia/Bangkok");
    card.querySelector<HTMLInputElement>("input[name=open-sat]")!.click();
    await settle();
    [...card.querySelectorAll("button")].find((b) => b.textContent === "Add a holiday")!.click();
    await settle();
    change(card.querySelector<HTMLInputElement>("input[name=holiday-0]")!, "2026-12-05");
    [...card.querySelectorAll("button")].find((b) => b.textContent === "Save queue")!.click();
    await settle();
    const vip = state.current.queues.find((q) => q.id === "vip")!.queue;
    expect(vip.name).toBe("VIP");
    expect(vip.hours?.timeZone).toBe("Asia/Bangkok");
    // Saturday keeps the weekdays' hours, so one slot holds all six days.
    expect(vip.hours?.weekly).toEqual([{ days: ["mon", "tue", "wed", "thu", "fri", "sat"], from: "09:00", to: "18:00" }]);
    expect(vip.hours?.holidays).toEqual([{ date: "2026-12-05", name: "" }]);
  });
});
