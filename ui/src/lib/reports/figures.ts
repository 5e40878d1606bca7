// A report's figures as the reports screen shows and exports them: which columns, their
// values (times in seconds, rates as fractions), and the CSV of any view.
import type { Report, ReportGroup, ReportRow } from "../ipc/types";
import { dateTimeFormat, numberFormat } from "../i18n/formatters";
import { i18n } from "../i18n/i18n.svelte";

/** One column of the table and the CSV. */
export type Column = {
  id: string;
  /** Its heading. */
  label: () => string;
  /** Its value in a row (null: nothing to show, such as a median of no values). */
  value: (r: ReportRow) => number | null;
  /** How the table shows it. */
  kind: "count" | "seconds" | "percent" | "rating";
};

const secs = (ms: number | null) => (ms === null ? null : ms / 1000);
const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export const COLUMNS: Column[] = [
  { id: "received", label: () => i18n.t("reports.received"), value: (r) => r.received, kind: "count" },
  { id: "accepted", label: () => i18n.t("reports.accepted"), value: (r) => r.accepted, kind: "count" },
  { id: "answered", label: () => i18n.t("reports.answered"), value: (r) => r.answered, kind: "count" },
  { id: "unanswered", label: () => i18n.t("reports.unanswered"), value: (r) => r.unanswered, kind: "count" },
  { id: "service_level", label: () => i18n.t("reports.service_level"), value: (r) => share(r.withinTarget, r.targeted), kind: "percent" },
  { id: "wait_median", label: () => i18n.t("reports.wait_median"), value: (r) => secs(r.waitMedianMs), kind: "seconds" },
  { id: "wait_p90", label: () => i18n.t("reports.wait_p90"), value: (r) => secs(r.waitP90Ms), kind: "seconds" },
  { id: "first_response_median", label: () => i18n.t("reports.first_response_median"), value: (r) => secs(r.firstResponseMedianMs), kind: "seconds" },
  { id: "first_response_p90", label: () => i18n.t("reports.first_response_p90"), value: (r) => secs(r.firstResponseP90Ms), kind: "seconds" },
  { id: "handle", label: () => i18n.t("reports.handle"), value: (r) => secs(r.handleAvgMs), kind: "seconds" },
  { id: "wrap_up", label: () => i18n.t("reports.wrap_up"), value: (r) => secs(r.wrapUpAvgMs), kind: "seconds" },
  { id: "transfers", label: () => i18n.t("reports.transfers"), value: (r) => r.transfers, kind: "count" },
  { id: "declines", label: () => i18n.t("reports.declines"), value: (r) => r.declines, kind: "count" },
  { id: "survey_rate", label: () => i18n.t("reports.survey_rate"), value: (r) => share(r.surveysAnswered, r.surveysSent), kind: "percent" },
  { id: "rating", label: () => i18n.t("reports.rating"), value: (r) => r.ratingAvg, kind: "rating" },
  { id: "sent_free", label: () => i18n.t("reports.sent_free"), value: (r) => r.sentFree, kind: "count" },
  { id: "sent_metered", label: () => i18n.t("reports.sent_metered"), value: (r) => r.sentMetered, kind: "count" },
];

/** A value as the table shows it, in the user's locale. */
export function shown(c: Column, r: ReportRow): string {
  const v = c.value(r);
  if (v === null) return "–";
  const n = (digits: number, style?: "percent") => numberFormat(i18n.locale, { maximumFractionDigits: digits, style }).format(v);
  switch (c.kind) {
    case "count":
      return n(0);
    case "percent":
      return n(0, "percent");
    case "rating":
      return n(2);
    case "seconds":
      return i18n.t("reports.seconds", { n: n(1) });
  }
}

/** A group's name: a day as the locale writes it, a queue or channel by its name. */
export function groupName(group: ReportGroup, key: string, names: Record<string, string>): string {
  if (group === "agent" && key === "") return i18n.t("reports.nobody");
  // A report day is a date in the relay's report time zone: shown as that date, whatever
  // the zone of this computer.
  if (group === "day") {
    const at = Date.parse(`${key}T00:00:00Z`);
    return Number.isNaN(at) ? key : dateTimeFormat(i18n.locale, { dateStyle: "medium", timeZone: "UTC" }).format(at);
  }
  return names[key] ?? key;
}

/** One CSV field, quoted when it must be (RFC 4180), and never read as a formula by a
 * spreadsheet (names come from users and customers). */
function field(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The report as CSV: a heading row, a row per group, then the total. Times in seconds,
 * shares as fractions, all with a dot for decimals. */
export function csv(report: Report, names: Record<string, string>): string {
  const head = [i18n.t(`reports.by_${report.group}`), ...COLUMNS.map((c) => c.label() + (c.kind === "seconds" ? " (s)" : ""))];
  const line = (name: string, r: ReportRow) => [name, ...COLUMNS.map((c) => c.value(r)?.toString() ?? "")];
  const rows = [head, ...report.rows.map((r) => line(groupName(report.group, r.key, names), r)), line(i18n.t("reports.total"), report.total)];
  return rows.map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}
