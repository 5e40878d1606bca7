// @vitest-environment happy-dom
// The reports screen against the fake backend: it asks for the range and grouping chosen,
// shows each group with its figures and the total, exports the view as CSV, and says under
// the field why the relay refused a range, in the user's language.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mount, unmount } from "svelte";
import { emptyRow, fakeConsole, fakeState, type FakeState } from "../ipc/fake";
import { i18n } from "../i18n/i18n.svelte";
import { settle } from "./testing";
import Reports from "./Reports.svelte";

const state: { current: FakeState } = { current: fakeState() };

function button(root: HTMLElement, text: string): HTMLButtonElement {
  const b = [...root.querySelectorAll("button")].find((x) => x.textContent?.trim() === text);
  if (!b) throw new Error(`no button ${text}`);
  return b;
}

function change(el: HTMLInputElement | HTMLSelectElement, value: string) {
  el.value = value;
  if (el instanceof HTMLSelectElement) for (const o of el.options) o.selected = o.value === value;
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

describe("reports", () => {
  let target: HTMLElement;
  let component: ReturnType<typeof mount>;

  beforeEach(async () => {
    state.current = fakeState();
    state.current.report.rows = [
      { ...emptyRow("general"), received: 6, accepted: 5, answered: 4, unanswered: 2, targeted: 5, withinTarget: 3, waitMedianMs: 40_000 },
    ];
    state.current.report.total = { ...emptyRow(""), received: 6, accepted: 5, answered: 4, unanswered: 2, targeted: 5, withinTarget: 3, waitMedianMs: 40_000 };
    i18n.set("en");
    target = document.createElement("div");
    document.body.append(target);
    const app = fakeConsole(state.current, "sam", "supervisor");
    component = mount(Reports, { target, props: { reports: app.reports, onclose: () => {} } });
    await settle();
  });

  afterEach(() => {
    unmount(component);
    target.remove();
    i18n.set("en");
  });

  it("shows a group per row with the queue's name, and the total", async () => {
    const select = target.querySelector<HTMLSelectElement>("select[name=by]")!;
    change(select, "queue");
    await settle();
    expect(state.current.calls).toContain("getReport:queue");
    const rows = [...target.querySelectorAll("tbody tr")];
    expect(rows.map((r) => r.querySelector("th")?.textContent)).toEqual(["General"]);
    const cell = (tr: Element, id: string) => tr.querySelector(`td[data-column=${id}]`)?.textContent;
    expect(cell(rows[0], "received")).toBe("6");
    expect(cell(rows[0], "service_level")).toBe("60%");
    expect(cell(rows[0], "wait_median")).toBe("40 s");
    const total = target.querySelector("tfoot tr")!;
    expect(total.querySelector("th")?.textContent).toBe("Total");
    expect(cell(total, "unanswered")).toBe("2");
    expect(target.querySelectorAll("figure.chart canvas").length).toBe(3);
  });

  it("exports the view as CSV into Downloads", async () => {
    button(target, "Export CSV").click();
    await settle();
    const [name] = Object.keys(state.current.saved);
    expect(name).toMatch(/^linedesk-report-day-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(state.current.saved[name].split("\r\n")[0].startsWith("Day,Received,")).toBe(true);
    expect(target.querySelector(".status")?.textContent).toBe(`Saved /home/ada/Downloads/${name}`);
  });

  it("says under the field why a range was refused, in Thai", async () => {
    i18n.set("th");
    await settle();
    change(target.querySelector<HTMLInputElement>("input[name=from]")!, "2026-12-02");
    change(target.querySelector<HTMLInputElement>("input[name=to]")!, "2026-12-01");
    target.querySelector<HTMLFormElement>("form.query")!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await settle();
    const under = target.querySelector<HTMLInputElement>("input[name=to]")!.closest("label")!.querySelector(".err");
    expect(under?.textContent).toBe("วันสุดท้ายต้องไม่ก่อนวันแรก และรายงานครอบคลุมได้ไม่เกิน 731 วัน");
  });
});
