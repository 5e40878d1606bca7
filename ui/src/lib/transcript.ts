// The words of a transcript (the file itself is made by the shell from the console's cache):
// the header's facts and every sentence, in the user's language, times in the user's zone.
import { dateTimeFormat } from "./i18n/formatters";
import { i18n } from "./i18n/i18n.svelte";
import type { Conversation, ConversationSnapshot, TranscriptText } from "./ipc/types";

/** The computer's IANA time zone (the transcript's times and the footer's zone). */
export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const EVENTS = ["follow", "unblocked", "blocked", "edited", "attachment_blocked"] as const;
const KINDS = ["image", "video", "audio", "file", "sticker", "location"] as const;

export function transcriptText(c: Conversation, e: ConversationSnapshot, me: string | null, now = Date.now()): TranscriptText {
  const t = i18n.t;
  const when = (ms: number) =>
    dateTimeFormat(i18n.locale, { dateStyle: "medium", timeStyle: "short", timeZone: timeZone() }).format(new Date(ms));
  const name = c.display_name ?? t("common.unknown_customer");
  const facts: { label: string; value: string }[] = [
    { label: t("transcript.customer"), value: name },
    { label: t("customer.id"), value: c.chat_id },
  ];
  const add = (label: string, value: string | null | undefined) => {
    if (value) facts.push({ label, value });
  };
  add(t("transcript.contact"), e.contact ? [e.contact.name, e.contact.company].filter(Boolean).join(", ") : null);
  add(t("transcript.language"), e.language ?? c.language);
  add(t("transcript.queue"), e.queueName);
  add(t("transcript.owner"), e.owner);
  add(t("transcript.transferred_from"), e.transferredFrom);
  add(t("transcript.opened"), when(e.openedAt));
  add(t("transcript.accepted"), e.acceptedAt === null ? null : when(e.acceptedAt));
  add(t("transcript.closed"), e.closedAt === null ? null : when(e.closedAt));
  const reasons: Record<string, Parameters<typeof t>[0]> = {
    agent: "transcript.reason_agent",
    auto_close: "transcript.reason_auto_close",
    channel_deleted: "transcript.reason_channel_deleted",
    forced: "transcript.reason_forced",
    unattended: "transcript.reason_unattended",
  };
  add(t("transcript.close_reason"), e.closeReason ? (reasons[e.closeReason] ? t(reasons[e.closeReason]) : e.closeReason) : null);
  if (e.survey) {
    const rating = e.survey.rating === null ? null : t("transcript.rating_value", { rating: e.survey.rating });
    add(t("transcript.rating"), [rating, e.survey.comment].filter(Boolean).join(" · "));
  }
  // Placeholders stay for the shell to fill per message.
  const keep = { who: "{who}", reason: "{reason}", keywords: "{keywords}", type: "{type}", owner: "{who}" };
  const eventWords: Record<string, string> = Object.fromEntries(EVENTS.map((k) => [k, t(`thread.${k}`)]));
  eventWords.unsend = t("thread.unsent");
  return {
    lang: i18n.locale,
    title: t("transcript.title", { name }),
    facts,
    footer: t("transcript.footer", { who: me ?? "", when: when(now), zone: timeZone() }),
    customer: name,
    team: t("transcript.team"),
    automated: t("thread.automated"),
    note: t("note.note_by", keep),
    whisper: t("note.whisper_by", keep),
    internal: t("note.internal"),
    status: {
      queued: t("status.queued"),
      sending: t("status.sending"),
      reply: t("status.sent_reply"),
      push: t("status.sent_push"),
      failed: t("status.failed", keep),
      unknown: t("status.unknown"),
    },
    events: eventWords,
    event: t("thread.event", keep),
    kinds: Object.fromEntries(KINDS.map((k) => [k, t(`kind.${k}`)])),
    stickerKeywords: t("thread.sticker_keywords", keep),
    noPicture: t("transcript.no_picture"),
    empty: t("transcript.empty"),
  };
}
