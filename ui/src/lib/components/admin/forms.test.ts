import { describe, expect, it } from "vitest";
import { gridOf, parseList, slotsOf } from "./forms";

describe("admin form helpers", () => {
  it("splits lists on Latin and CJK commas", () => {
    expect(parseList("invoice, refund，帳單、請求書\n")).toEqual(["invoice", "refund", "帳單", "請求書"]);
  });

  it("turns slots into a weekly grid and back, split shifts included", () => {
    const weekly = [
      { days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "12:00" },
      { days: ["mon", "tue", "wed", "thu", "fri"], from: "13:00", to: "18:00" },
      { days: ["sat"], from: "10:00", to: "14:00" },
    ];
    const grid = gridOf(weekly);
    expect(grid.filter((d) => d.open).map((d) => d.day)).toEqual(["mon", "tue", "wed", "thu", "fri", "sat"]);
    expect(grid[0].ranges).toEqual([
      { from: "09:00", to: "12:00" },
      { from: "13:00", to: "18:00" },
    ]);
    expect(grid[6]).toEqual({ day: "sun", open: false, ranges: [{ from: "09:00", to: "18:00" }] });
    expect(slotsOf(grid)).toEqual(weekly);
    grid[2].ranges = [{ from: "09:00", to: "12:00" }];
    expect(slotsOf(grid)).toEqual([
      { days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "12:00" },
      { days: ["mon", "tue", "thu", "fri"], from: "13:00", to: "18:00" },
      { days: ["sat"], from: "10:00", to: "14:00" },
    ]);
  });
});
