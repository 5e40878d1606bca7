import { describe, expect, it } from "vitest";
import { segments, fileSize, mapUrl } from "./format";

describe("segments", () => {
  it("splits LINE emoji placeholders by UTF-16 index", () => {
    expect(segments("hi $ you", [{ index: 3, length: 1 }])).toEqual([
      { text: "hi ", emoji: false },
      { text: "$", emoji: true },
      { text: " you", emoji: false },
    ]);
  });
  it("ignores emoji ranges past the end, as LINE's SDK fixtures have", () => {
    expect(segments("abc", [{ index: 10, length: 1 }])).toEqual([{ text: "abc", emoji: false }]);
  });
  it("keeps markup-looking text as plain text", () => {
    expect(segments("<img src=x onerror=alert(1)>", [])).toEqual([{ text: "<img src=x onerror=alert(1)>", emoji: false }]);
  });
});

describe("fileSize", () => {
  it("formats with the locale", () => {
    expect(fileSize(2048, "en")).toBe("2 kB");
  });
});

describe("mapUrl", () => {
  it("points at the coordinates", () => {
    expect(mapUrl(25.0339, 121.5645)).toContain("mlat=25.033900&mlon=121.564500");
  });
});

import { pickLocale } from "./i18n/i18n.svelte";

describe("pickLocale", () => {
  it("maps OS locales onto the four UI languages", () => {
    expect(pickLocale(["th-TH"])).toBe("th");
    expect(pickLocale(["zh-HK"])).toBe("zh-TW");
    expect(pickLocale(["ja-JP"])).toBe("ja");
    expect(pickLocale(["fr-FR", "en-US"])).toBe("en");
  });
});
