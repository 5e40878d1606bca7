// @vitest-environment happy-dom
// The figures of a report as the screen shows and exports them.
import { afterEach, describe, expect, it } from "vitest";
import type { Report, ReportRow } from "../ipc/types";
import { i18n } from "../i18n/i18n.svelte";
import { emptyRow } from "../ipc/fake";
import { COLUMNS, csv, groupName, shown } from "./figures";

const reportRow = (key: string, over: Partial<ReportRow> = {}): ReportRow => ({ ...emptyRow(key), ...over });

const column = (id: string) => COLUMNS.find((c) => c.id === id)!;

describe("report figures", () => {
  afterEach(() => i18n.set("en"));

  it("shows shares, seconds and missing values in the user's locale", () => {
    const r = reportRow("rita", { targeted: 5, withinTarget: 3, waitMedianMs: 40_000, surveysSent: 4, surveysAnswered: 3, ratingAvg: 4 });
    expect(shown(column("service_level"), r)).toBe("60%");
    expect(shown(column("wait_median"), r)).toBe("40 s");
    expect(shown(column("survey_rate"), r)).toBe("75%");
    expect(shown(column("first_response_median"), r)).toBe("–");
    i18n.set("ja");
    expect(shown(column("wait_median"), r)).toBe("40 秒");
    expect(groupName("agent", "", {})).toBe("担当者なし（自動送信・未対応）");
    expect(groupName("queue", "billing", { billing: "請求" })).toBe("請求");
  });

  it("exports CSV that a spreadsheet reads as data, never as a formula", () => {
    const report: Report = {
      from: "2026-11-30", to: "2026-11-30", group: "agent", timeZone: "UTC",
      rows: [reportRow("=HYPERLINK(\"x\")", { accepted: 2, handleAvgMs: 137_000 }), reportRow("bob, jr", { accepted: 1 })],
      total: reportRow("", { accepted: 3 }),
    };
    const lines = csv(report, {}).split("\r\n");
    expect(lines[0].startsWith("Representative,Received,Accepted,")).toBe(true);
    expect(lines[0]).toContain("Handle time (s)");
    expect(lines[1].startsWith(`"'=HYPERLINK(""x"")",0,2,`)).toBe(true);
    expect(lines[1]).toContain(",137,");
    expect(lines[2].startsWith('"bob, jr",0,1,')).toBe(true);
    expect(lines[3].startsWith("Total,0,3,")).toBe(true);
    expect(lines[4]).toBe("");
  });
});
