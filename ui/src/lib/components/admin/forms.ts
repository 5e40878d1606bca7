// Small helpers the admin forms share.
import type { Trigger, Workstream } from "../../ipc/types";

/** A list typed as text: split on commas (also the CJK ones) and new lines, trimmed. */
export function parseList(text: string): string[] {
  return text
    .split(/[,，、\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A list as the text a person edits. */
export function listText(list: readonly string[]): string {
  return list.join(", ");
}

let zones: string[] | null = null;

/** Every IANA time zone the web view knows, for pickers (the relay checks the name too). */
export function timeZones(): string[] {
  if (!zones) {
    const supported = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf;
    zones = supported ? supported("timeZone") : ["UTC", "Asia/Bangkok", "Asia/Taipei", "Asia/Tokyo"];
    if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  }
  return zones;
}

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A span of opening hours, `HH:MM` to `HH:MM`. */
export type Range = { from: string; to: string };

/** One row of the weekly grid: a day, open or not, and its spans (a split shift has two). */
export type DayHours = { day: Weekday; open: boolean; ranges: Range[] };

/** The relay's slots as a grid of seven days, every span of each day kept. */
export function gridOf(weekly: { days: string[]; from: string; to: string }[]): DayHours[] {
  return WEEKDAYS.map((day) => {
    const ranges = weekly
      .filter((s) => s.days.map((d) => d.toLowerCase()).includes(day))
      .map((s) => ({ from: s.from, to: s.to }))
      .sort((a, b) => a.from.localeCompare(b.from));
    return ranges.length ? { day, open: true, ranges } : { day, open: false, ranges: [{ from: "09:00", to: "18:00" }] };
  });
}

/** The grid back as slots: days with the same span share one slot. */
export function slotsOf(grid: DayHours[]): { days: string[]; from: string; to: string }[] {
  const slots: { days: string[]; from: string; to: string }[] = [];
  for (const d of grid.filter((d) => d.open)) {
    for (const r of d.ranges) {
      const same = slots.find((s) => s.from === r.from && s.to === r.to);
      if (same) same.days.push(d.day);
      else slots.push({ days: [d.day], from: r.from, to: r.to });
    }
  }
  return slots;
}

/** Every automated message's trigger, in the order the form lists them, with its variables. */
export const TRIGGERS: { trigger: Trigger; variables: string[] }[] = [
  { trigger: "greeting", variables: ["CustomerName", "QueueName"] },
  { trigger: "queue_position", variables: ["Position", "QueueName", "CustomerName"] },
  { trigger: "no_agent", variables: ["QueueName", "CustomerName"] },
  { trigger: "assigned", variables: ["AgentName", "CustomerName"] },
  { trigger: "transfer_accepted", variables: ["AgentName", "CustomerName"] },
  { trigger: "out_of_hours", variables: ["QueueName", "CustomerName"] },
  { trigger: "holiday", variables: ["QueueName", "CustomerName"] },
  { trigger: "ended", variables: ["AgentName", "CustomerName"] },
  { trigger: "closed", variables: ["AgentName", "CustomerName"] },
  { trigger: "attachment_blocked", variables: [] },
  { trigger: "survey_thanks", variables: ["AgentName", "CustomerName"] },
];

/** The workstream with texts (maybe none) for every trigger, so the forms edit in place. */
export function withEveryTrigger(ws: Workstream): Workstream {
  for (const { trigger } of TRIGGERS) ws.messages[trigger] ??= {};
  return ws;
}
