import { describe, expect, it } from "vitest";
import { dateTimeFormat, numberFormat, pluralRules } from "./formatters";

describe("formatters", () => {
  it("are made once per locale and options, and format as Intl does", () => {
    expect(numberFormat("th", { style: "percent" })).toBe(numberFormat("th", { style: "percent" }));
    expect(numberFormat("th", { style: "percent" })).not.toBe(numberFormat("th"));
    expect(numberFormat("ja", { style: "percent" })).not.toBe(numberFormat("th", { style: "percent" }));
    expect(dateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" })).toBe(dateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" }));
    expect(dateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" })).not.toBe(dateTimeFormat("en", { dateStyle: "medium", timeZone: "Asia/Tokyo" }));
    expect(pluralRules("en")).toBe(pluralRules("en"));

    expect(numberFormat("en").format(12345)).toBe("12,345");
    expect(dateTimeFormat("en", { dateStyle: "medium", timeZone: "UTC" }).format(Date.UTC(2026, 11, 2))).toBe("Dec 2, 2026");
    expect(pluralRules("en").select(1)).toBe("one");
  });
});
