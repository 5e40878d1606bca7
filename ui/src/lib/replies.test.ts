// Quick replies in the composer: matching in every script, the customer's language, the
// variables, and the "/" being typed.
import { describe, expect, it } from "vitest";
import type { QuickReply } from "./ipc/types";
import { fillVariables, filterReplies, slashQuery, textFor } from "./replies";

function reply(id: number, title: string, texts: Record<string, string>, team = true): QuickReply {
  return { id, team, owner: team ? null : "rita", title, texts, image: null, updatedAt: 0 };
}

const order = reply(1, "Order status / สถานะคำสั่งซื้อ", {
  en: "Hello {CustomerName}, {AgentName} is checking your order now.",
  th: "สวัสดีค่ะ คุณ{CustomerName} ดิฉัน{AgentName} กำลังตรวจสอบคำสั่งซื้อให้ค่ะ",
  "zh-TW": "{CustomerName} 您好，我是 {AgentName}，馬上幫您查詢訂單。",
  ja: "{CustomerName}様、{AgentName}がご注文を確認いたします。",
});
const refund = reply(2, "Refund", { en: "Your refund of {Company} is on its way.", ja: "返金手続きを進めております。" }, false);
const hours = reply(3, "Opening hours", { en: "We are open 9:00–18:00.", "zh-HK": "我們的營業時間是 9:00–18:00。" });

describe("quick replies", () => {
  it("a Thai reply with its variables filled", () => {
    const text = fillVariables(textFor(order, "th"), { CustomerName: "สมชาย", AgentName: "น้อย" });
    expect(text).toBe("สวัสดีค่ะ คุณสมชาย ดิฉันน้อย กำลังตรวจสอบคำสั่งซื้อให้ค่ะ");
  });

  it("a variable without a value stays for the representative to fill", () => {
    expect(fillVariables(textFor(refund, "en"), { CustomerName: "Ann" })).toBe("Your refund of {Company} is on its way.");
  });

  it("falls back from the region, then to English", () => {
    expect(textFor(hours, "zh-TW")).toBe("我們的營業時間是 9:00–18:00。");
    expect(textFor(refund, "th")).toBe("Your refund of {Company} is on its way.");
    expect(textFor(refund, null)).toBe("Your refund of {Company} is on its way.");
  });

  it("matches titles first, then texts, in Thai, Chinese and Japanese without spaces", () => {
    const all = [hours, refund, order];
    expect(filterReplies(all, "ord").map((r) => r.id)).toEqual([1]);
    expect(filterReplies(all, "คำสั่งซื้อ").map((r) => r.id)).toEqual([1]);
    expect(filterReplies(all, "訂單").map((r) => r.id)).toEqual([1]);
    expect(filterReplies(all, "返金").map((r) => r.id)).toEqual([2]);
    // Full-width letters match too; a word found only in a text; a title before a text.
    expect(filterReplies(all, "ＲＥＦＵＮＤ").map((r) => r.id)).toEqual([2]);
    expect(filterReplies(all, "now").map((r) => r.id)).toEqual([1]);
    expect(filterReplies(all, "re").map((r) => r.id)).toEqual([2, 3]);
    expect(filterReplies(all, "").map((r) => r.id)).toEqual([3, 2, 1]);
  });

  it("knows the / being typed at the caret", () => {
    expect(slashQuery("/ord", 4)).toEqual({ start: 0, query: "ord" });
    expect(slashQuery("Thanks! /訂", 10)).toEqual({ start: 8, query: "訂" });
    expect(slashQuery("see https://x.y/z", 17)).toBeNull();
    expect(slashQuery("a/b", 3)).toBeNull();
    expect(slashQuery("/ord more", 9)).toBeNull();
  });
});
