// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import type { IpcError } from "../ipc/bindings";
import { i18n } from "./i18n.svelte";
import { durationText, errorText, fieldErrors, reasonText, refusalText, warningText } from "./refusal";

const refused = (invalid: IpcError["invalid"]): IpcError => ({ code: "invalid", message: "declineLimit: must be 1 to 5", invalid });

describe("refusals in the user's language", () => {
  afterEach(() => i18n.set("en"));

  it("words a reason with its parameters in each language", () => {
    const r = { kind: "range", min: 1, max: 5 } as const;
    expect(reasonText(r)).toBe("Enter a number from 1 to 5.");
    i18n.set("ja");
    expect(reasonText(r)).toBe("1〜5 の数値を入力してください。");
    i18n.set("th");
    expect(reasonText({ kind: "timeZone" })).toBe("เลือกเขตเวลาจากรายการ");
    i18n.set("zh-TW");
    expect(reasonText({ kind: "noSuchQueue" })).toBe("沒有這個佇列。");
  });

  it("says durations in whole units", () => {
    expect(durationText(3_600_000)).toBe("1 hour");
    expect(durationText(30 * 86_400_000)).toBe("30 days");
    expect(durationText(10_000)).toBe("10 seconds");
    expect(reasonText({ kind: "duration", minMs: 60_000, maxMs: 2_592_000_000 })).toBe("Choose from 1 minute to 30 days.");
  });

  it("puts each reason under its field and the rest on top", () => {
    const e = refused([
      { field: "token", reason: { kind: "tokenRefused", detail: "Authentication failed" } },
      { field: "custom.Plan", reason: { kind: "length", min: 0, max: 1000 } },
      { field: "rules[0].queue", reason: { kind: "noSuchQueue" } },
    ]);
    const f = fieldErrors(e, ["token", "custom"]);
    expect(f.fields.token).toContain("LINE does not accept this access token (Authentication failed)");
    expect(f.fields.custom).toBe("Use 0 to 1,000 characters.");
    expect(f.other).toBe("Not saved: rules[0].queue: There is no such queue.");
  });

  it("falls back to the relay's words when it names no field", () => {
    expect(refusalText({ code: "conflict", message: "close the conversation first", invalid: [] })).toBe(
      "Not saved: close the conversation first",
    );
    expect(fieldErrors({ code: "internal", message: "LINE could not be reached", invalid: [] }, ["id"]).other).toBe(
      "Not saved: LINE could not be reached",
    );
  });

  it("words a routing command's refusal and warning, with the state's and person's names", () => {
    const taken: IpcError = { code: "conflict", message: "rita has this conversation", invalid: [{ field: "", reason: { kind: "ownedByOther", owner: "rita" } }] };
    expect(errorText(taken)).toBe("rita has this conversation.");
    i18n.set("ja");
    expect(errorText(taken)).toBe("この会話は rita さんが対応中です。");
    expect(reasonText({ kind: "notInState", state: "wrap_up" })).toBe(`会話が「${i18n.t("state.wrap_up")}」の間はできません。`);
    i18n.set("th");
    expect(warningText({ kind: "nobodyAvailable", queue: "Billing" })).toBe("ตอนนี้ไม่มีใครใน Billing ว่าง การสนทนาจะรอในคิว");
    i18n.set("zh-TW");
    expect(errorText({ code: "conflict", message: "", invalid: [{ field: "toUser", reason: { kind: "offline", user: "noi" } }] })).toContain("noi 目前離線。");
    // Without a reason, the code's own sentence.
    expect(errorText({ code: "forbidden", message: "forbidden", invalid: [] })).toBe(i18n.t("error.forbidden"));
  });
});
