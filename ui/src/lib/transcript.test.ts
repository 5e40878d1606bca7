// @vitest-environment happy-dom
// The words the console gives the shell for a transcript: the header's facts in the user's
// language, and the per-message sentences with their placeholders left for the shell to fill.
import { afterEach, describe, expect, it } from "vitest";
import { i18n } from "./i18n/i18n.svelte";
import type { Conversation, ConversationSnapshot } from "./ipc/types";
import { transcriptText } from "./transcript";

const episode: ConversationSnapshot = {
  id: "c1", version: 9, channelId: "1650000000", chatId: "U1", state: "closed", queueId: "general", queueName: "ทั่วไป",
  mode: "push", owner: "noi", offer: null, firstText: "สวัสดี", language: "th", openedAt: Date.UTC(2026, 11, 1, 2, 0),
  lastCustomerAt: 0, acceptedAt: Date.UTC(2026, 11, 1, 2, 1), endedAt: null, closedAt: Date.UTC(2026, 11, 1, 2, 20),
  closeReason: "forced", transferredFrom: "rita", consultants: [], survey: { rating: 4, comment: "ดีมาก" }, surveyAsked: true,
  contact: { id: 7, name: "สมชาย ใจดี", company: "ACME" }, flag: null, consent: null,
};
const chat: Conversation = {
  id: 3, channel_id: "1650000000", chat_id: "U1", display_name: "สมชาย", picture_url: null, language: "th", following: true,
  last_message_at: 0, last_preview: null, unread: 0, reply_until: null, routing: episode,
};

describe("the transcript's words", () => {
  afterEach(() => i18n.set("en"));

  it("are in the user's language, with the conversation's facts", () => {
    i18n.set("th");
    const t = transcriptText(chat, episode, "sam", Date.UTC(2026, 11, 2));
    expect(t.lang).toBe("th");
    expect(t.title).toBe("บันทึกการสนทนา สมชาย");
    const facts = Object.fromEntries(t.facts.map((f) => [f.label, f.value]));
    expect(facts["ลูกค้า"]).toBe("สมชาย");
    expect(facts["ผู้ติดต่อ"]).toBe("สมชาย ใจดี, ACME");
    expect(facts["คิว"]).toBe("ทั่วไป");
    expect(facts["เจ้าหน้าที่"]).toBe("noi");
    expect(facts["โอนมาจาก"]).toBe("rita");
    expect(facts["การปิด"]).toBe("หัวหน้างานบังคับปิด");
    expect(facts["แบบสำรวจ"]).toBe("4 จาก 5 · ดีมาก");
    expect(t.footer).toContain("sam");
    expect(t.kinds.image).toBe("รูปภาพ");
  });

  it("leave the shell's placeholders in place", () => {
    i18n.set("ja");
    const t = transcriptText(chat, { ...episode, survey: null, contact: null, transferredFrom: null }, "sam");
    expect(t.note).toContain("{who}");
    expect(t.whisper).toContain("{who}");
    expect(t.status.failed).toContain("{reason}");
    expect(t.stickerKeywords).toContain("{keywords}");
    expect(t.event).toContain("{type}");
    expect(t.events.unsend).toBe(i18n.t("thread.unsent"));
    expect(t.facts.map((f) => f.label)).not.toContain("転送元");
  });
});
